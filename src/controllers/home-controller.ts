import type { Request, Response } from 'express';

/** GET / — 首頁 */
export async function index(_req: Request, res: Response): Promise<void> {
  res.render('home/index', { title: '首頁' });
}

/** GET /password-help — 忘記密碼 */
export function passwordHelp(_req: Request, res: Response): void {
  res.render('home/password-help', { title: '忘記密碼' });
}
