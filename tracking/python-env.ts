/**
 * The Python side of the tracking tests: PyPI's `tensorboard` (its own event-file reader checks
 * ours) and an MLflow tracking server (`mlflow server`, from mlflow-skinny plus what its server
 * imports; the full `mlflow` package adds pandas, scipy, scikit-learn and pyarrow, ~400 MB the
 * server does not need). One venv in the project cache, made once: `npm run tracking:install`
 * (CI runs it before the tests; the tests make it themselves when it is missing).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { cacheDir } from '../store/paths.js';

/** Pinned: what the tests were written against. */
export const TRACKING_REQUIREMENTS = [
  'tensorboard==2.21.0',
  'mlflow-skinny==3.18.0', 'flask==3.1.3', 'flask-cors==6.0.5', 'sqlalchemy==2.1.9', 'alembic==1.20.1',
  'graphene==3.4.3', 'huey==3.5.4', 'aiohttp==3.14.5', 'numpy==2.4.6',
];

export const trackingVenv = () => join(cacheDir(), 'tracking-venv');
export const trackingPython = () => join(trackingVenv(), 'bin', 'python');
export const mlflowBinary = () => join(trackingVenv(), 'bin', 'mlflow');
const marker = () => join(trackingVenv(), 'creditflow-requirements.txt');

/** The venv's python, creating the venv first when it is missing or was made from other pins. */
export function ensureTrackingPython(log: (line: string) => void = (l) => console.log(l)): string {
  const wanted = `${TRACKING_REQUIREMENTS.join('\n')}\n`;
  if (existsSync(marker()) && readFileSync(marker(), 'utf8') === wanted && existsSync(trackingPython())) return trackingPython();
  const python = ['python3', 'python'].find((p) => spawnSync(p, ['--version']).status === 0);
  if (!python) throw new Error('the tracking tests need python3 (with venv and pip) to install tensorboard and mlflow from PyPI');
  rmSync(trackingVenv(), { recursive: true, force: true });
  log(`creating ${trackingVenv()} (tensorboard, mlflow server) from PyPI ...`);
  const started = Date.now();
  const venv = spawnSync(python, ['-m', 'venv', trackingVenv()], { encoding: 'utf8' });
  if (venv.status !== 0) throw new Error(`python -m venv failed: ${venv.stderr.trim()}`);
  const pip = spawnSync(trackingPython(), ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', ...TRACKING_REQUIREMENTS], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (pip.status !== 0) throw new Error(`pip install failed: ${pip.stderr.trim().split('\n').slice(-3).join(' ')}`);
  writeFileSync(marker(), wanted);
  log(`tracking venv ready in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  return trackingPython();
}

// `npm run tracking:install`
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  ensureTrackingPython();
}
