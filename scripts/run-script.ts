/** How every admin script ends: its exit code, a bad setting named with exit 78, any other failure with 1. */
import { ConfigError } from '../src/config.js';

export function runScript(name: string, main: () => Promise<number>): void {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      if (err instanceof ConfigError) {
        process.stderr.write(`${err.message}\nSee .env.example for every setting.\n`);
        process.exit(78);
      }
      process.stderr.write(`${name} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}
