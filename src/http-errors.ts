/** Errors a handler may throw; the error middleware turns each into its zh-TW page. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly expose = true,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/** "Not yours" and "does not exist" are the same answer. */
export class NotFoundError extends HttpError {
  constructor(message = '找不到您要的資料') {
    super(404, message);
  }
}

export class BadRequestError extends HttpError {
  constructor(message = '輸入的資料有誤') {
    super(400, message);
  }
}
