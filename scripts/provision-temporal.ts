/** `npm run temporal:install`: find or install the Temporal CLI and say which one. */
import { ensureTemporalCli } from '../server/temporal-cli.js';

try {
  ensureTemporalCli();
} catch (err) {
  console.error((err as Error).message);
  process.exit(1);
}
