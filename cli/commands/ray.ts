/**
 * `creditflow ray status [--ray-address URL] [--run ID] [--json]`: the Ray head creditflow places
 * steps on (address, Ray version, session) and the jobs it submitted there, grouped by run, so a
 * Temporal run can be matched with its Ray jobs.
 *
 * `creditflow ray step <request file>`: run one model step (the entrypoint of the Ray jobs
 * creditflow submits; ray/step-runner.ts).
 */
import { RayJobClient, type JobDetails } from '../../ray/client/index.js';
import { METADATA_MARK } from '../../ray/step-files.js';
import { runWithArgv } from '../options.js';
import { UsageError, type Options } from '../program.js';

export async function execute([action, requestFile]: unknown[], options: Options): Promise<number> {
  if (action === 'step') {
    if (typeof requestFile !== 'string') throw new UsageError('ray step needs the request file');
    // Loaded only here: it brings TensorFlow.js, which `ray status` does not need.
    const { runStepFile } = await import('../../ray/step-runner.js');
    return runStepFile(requestFile);
  }
  const client = new RayJobClient((options.rayAddress as string | undefined) ?? process.env.RAY_ADDRESS ?? 'http://127.0.0.1:8265');
  const onlyRun = options.run as string | undefined;
  const version = await client.version();
  const jobs = (await client.listJobs())
    .filter((j) => j.metadata?.[METADATA_MARK] === '1' && (!onlyRun || j.metadata.runId === onlyRun))
    .sort((a, b) => (a.start_time ?? 0) - (b.start_time ?? 0));
  const runs = groupByRun(jobs);
  if (options.json) {
    console.log(JSON.stringify({ address: client.address, rayVersion: version.ray_version, apiVersion: version.version, session: version.session_name, runs }, null, 2));
    return 0;
  }
  console.log(`Ray head ${client.address}: Ray ${version.ray_version} (job API ${version.version}), session ${version.session_name}`);
  if (runs.length === 0) {
    console.log(onlyRun ? `no creditflow jobs of run ${onlyRun} on this head` : 'no creditflow jobs on this head');
    return 0;
  }
  for (const r of runs) {
    const counts = Object.entries(countBy(r.jobs.map((j) => j.status))).map(([s, n]) => `${n} ${s.toLowerCase()}`).join(', ');
    console.log(`\nrun ${r.runId} (namespace ${r.namespace}; workflow ${r.workflowId}, execution ${r.workflowRunIds.join(', ')}): ${counts}`);
    for (const j of r.jobs) {
      const seconds = j.start_time && j.end_time ? `${((j.end_time - j.start_time) / 1000).toFixed(1)} s` : '';
      console.log(`  ${j.submission_id.padEnd(48)} ${j.step.padEnd(28)} ${j.status.padEnd(9)} ${seconds}`);
    }
  }
  return 0;
}

export const run = (argv: string[]) => runWithArgv('ray', argv, execute);

interface RunJobs {
  runId: string;
  namespace: string;
  workflowId: string;
  workflowRunIds: string[];
  jobs: { submission_id: string; step: string; status: string; start_time: number | null; end_time: number | null; error_type: string | null }[];
}

function groupByRun(jobs: JobDetails[]): RunJobs[] {
  const runs = new Map<string, RunJobs>();
  for (const j of jobs) {
    const m = j.metadata!;
    const key = `${m.namespace}/${m.runId}`;
    let entry = runs.get(key);
    if (!entry) runs.set(key, (entry = { runId: m.runId, namespace: m.namespace, workflowId: m.workflowId, workflowRunIds: [], jobs: [] }));
    if (m.workflowRunId && !entry.workflowRunIds.includes(m.workflowRunId)) entry.workflowRunIds.push(m.workflowRunId);
    entry.jobs.push({ submission_id: j.submission_id ?? '', step: m.step, status: j.status, start_time: j.start_time, end_time: j.end_time, error_type: j.error_type });
  }
  return [...runs.values()];
}

function countBy(values: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
}
