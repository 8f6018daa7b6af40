/**
 * A typed TypeScript client for Ray's job-submission REST API (README.md beside this file).
 * Self-contained: it imports nothing from the rest of creditflow.
 */
export { RayJobClient, normalizeRayAddress } from './job-client.js';
export type { RayJobClientOptions } from './job-client.js';
export {
  RayClientError, RayUnreachableError, RayJobNotFoundError, RayDuplicateSubmissionError, RayBadRequestError,
  RayUnauthorizedError, RayServerError, isRayError,
} from './errors.js';
export type { RayError, RayErrorKind } from './errors.js';
export { DEFAULT_RETRY } from './http.js';
export type { RetryPolicy } from './http.js';
export type { TailOptions } from './log-tail.js';
export { listPackageFiles, packWorkingDir, MAX_PACKAGE_BYTES } from './package.js';
export type { PackageOptions, WorkingDirPackage } from './package.js';
export { JOB_STATUSES, isTerminal } from './types.js';
export type { JobDetails, JobStatus, RayVersion, RuntimeEnv, SubmitJobRequest, SubmitJobResponse } from './types.js';
