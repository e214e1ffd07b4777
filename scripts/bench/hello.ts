/** The baseline: Express hello-world in its own process (`PORT`), the ceiling the portal's pages compare with. */
import express from 'express';

const app = express();
app.get('/', (_req, res) => {
  res.type('text/plain').send('hello world');
});
const server = app.listen(Number(process.env.PORT), '127.0.0.1');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
