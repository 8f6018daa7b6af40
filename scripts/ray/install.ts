/** `npm run ray:install`: the local Ray the tests and the bench start (provision.ts). */
import { ensureRay } from './provision.js';

try {
  const ray = ensureRay();
  console.log(`Ray ${ray.version}: ${ray.ray}${ray.installSeconds ? ` (installed in ${ray.installSeconds.toFixed(0)} s)` : ' (cached)'}`);
} catch (err) {
  console.error((err as Error).message);
  process.exit(1);
}
