/**
 * The shapes of Ray's job-submission REST API (Ray 2.x, API version "4"), checked against the
 * head's own handlers (`ray/dashboard/modules/job/job_head.py`, `common.py`, `pydantic_models.py`).
 *
 * Field names are Ray's own (snake_case), so Ray's documentation and OpenAPI spec read directly.
 */

export const JOB_STATUSES = ['PENDING', 'RUNNING', 'STOPPED', 'SUCCEEDED', 'FAILED'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

/** A job in one of these states never changes state again. */
export function isTerminal(status: JobStatus): boolean {
  return status === 'STOPPED' || status === 'SUCCEEDED' || status === 'FAILED';
}

/** GET /api/version */
export interface RayVersion {
  /** The job API's version ("4" since Ray 2.x). */
  version: string;
  ray_version: string;
  ray_commit: string;
  /** Changes when the head restarts (a new session); jobs of an old session are gone. */
  session_name: string;
}

/**
 * A runtime environment for the entrypoint. Only the fields this client knows are typed; Ray
 * accepts more (pip, conda, py_modules, container, ...), passed through as they are.
 */
export interface RuntimeEnv {
  /** A local folder is not accepted here: upload it first (`uploadWorkingDir`) and pass the `gcs://` URI. */
  working_dir?: string;
  env_vars?: Record<string, string>;
  [field: string]: unknown;
}

/** POST /api/jobs/ */
export interface SubmitJobRequest {
  /** Shell command run on the node that gets the entrypoint's resources. */
  entrypoint: string;
  /** The job's id, chosen by the caller: a second submission with the same id is refused (idempotency key). */
  submission_id?: string;
  runtime_env?: RuntimeEnv;
  /** String values only. */
  metadata?: Record<string, string>;
  /** Reserved for the entrypoint process itself (not for tasks it starts). */
  entrypoint_num_cpus?: number;
  entrypoint_num_gpus?: number;
  /** Bytes, an integer. */
  entrypoint_memory?: number;
  /** Custom resources, e.g. `{ "accelerator_type:H100": 0.001 }`. */
  entrypoint_resources?: Record<string, number>;
  entrypoint_label_selector?: Record<string, string>;
}

export interface SubmitJobResponse {
  submission_id: string;
  /** Deprecated alias Ray still sends: equal to submission_id. */
  job_id: string;
}

/** GET /api/jobs/{id} and each entry of GET /api/jobs/ */
export interface JobDetails {
  /** `SUBMISSION` for jobs of this API; `DRIVER` for scripts that called ray.init themselves (list only). */
  type: 'SUBMISSION' | 'DRIVER';
  /** Ray's internal job id (hex), once a driver has started; null before. */
  job_id: string | null;
  submission_id: string | null;
  status: JobStatus;
  entrypoint: string;
  message: string | null;
  /** Why a job failed, e.g. `JOB_ENTRYPOINT_COMMAND_ERROR`, `JOB_SUPERVISOR_ACTOR_DIED`. */
  error_type: string | null;
  /** Unix ms. */
  start_time: number | null;
  end_time: number | null;
  metadata: Record<string, string> | null;
  runtime_env: RuntimeEnv | null;
  driver_agent_http_address: string | null;
  driver_node_id: string | null;
  driver_exit_code: number | null;
  driver_info?: unknown;
  entrypoint_num_cpus?: number | null;
  entrypoint_num_gpus?: number | null;
  entrypoint_memory?: number | null;
  entrypoint_resources?: Record<string, number> | null;
}
