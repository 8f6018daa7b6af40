/**
 * The wheels `npm run gpu` fetches, as pip reads them: a hash-checked requirements file, and the check
 * that the pinned CUDA wheels are the ones the tensorflow wheel itself asks for (its `and-cuda` extra),
 * so that a version bump which forgets one fails before anything is built.
 */
import { CUDA_WHEELS, CUDA_WHEELS_LEFT_OUT, TF_GPU_WHEEL, type PinnedWheel } from './config.js';

export const ALL_WHEELS: PinnedWheel[] = [TF_GPU_WHEEL, ...CUDA_WHEELS];

/** pip's hash-checking mode: every line pinned to one version and the sha256 of the file we expect. */
export function requirementsText(wheels: PinnedWheel[]): string {
  return wheels.map((w) => `${w.project}==${w.version} --hash=sha256:${w.sha256}`).join('\n') + '\n';
}

/** `Requires-Dist: nvidia-cublas-cu12==12.5.3.2; extra == "and-cuda"` lines of a METADATA file -> project -> version. */
export function andCudaPins(metadata: string): Map<string, string> {
  const pins = new Map<string, string>();
  for (const line of metadata.split('\n')) {
    const m = line.match(/^Requires-Dist:\s*([A-Za-z0-9_.-]+)\s*\(?\s*==\s*([^\s;)]+)\s*\)?\s*;\s*extra\s*==\s*["']and-cuda["']/);
    if (m) pins.set(m[1].toLowerCase(), m[2]);
  }
  return pins;
}

/** Differences between the wheel's and-cuda pins and ours; empty when they agree. */
export function pinDrift(metadata: string): string[] {
  const theirs = andCudaPins(metadata);
  const ours = new Map(CUDA_WHEELS.map((w) => [w.project, w.version]));
  const out: string[] = [];
  if (theirs.size === 0) out.push('the tensorflow wheel declares no and-cuda requirements');
  for (const [project, version] of theirs) {
    if (project in CUDA_WHEELS_LEFT_OUT) continue;
    if (!ours.has(project)) out.push(`${project}==${version} is required by the wheel but not pinned`);
    else if (ours.get(project) !== version) out.push(`${project}: the wheel wants ${version}, pinned ${ours.get(project)}`);
  }
  for (const [project] of ours) if (!theirs.has(project)) out.push(`${project} is pinned but the wheel does not ask for it`);
  return out;
}
