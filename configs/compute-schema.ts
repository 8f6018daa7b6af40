/**
 * Where a run's model steps run (the `compute` section of RL and preference configs): on the
 * compute host of the creditflow worker the run is pinned to (the default), or as Ray jobs on an
 * existing Ray cluster (activities/ray-placement.ts). Settings that only Ray reads are errors
 * under `placement: worker`, naming the field.
 */
import { z } from 'zod';
import { BOUNDS, boundedCount, boundedString, tooBig } from './bounds.js';

export const RayResourcesSchema = z.strictObject({
  cpus: z.number().min(0).max(BOUNDS.rayCpus.max, tooBig(BOUNDS.rayCpus)).default(1).describe('CPUs Ray reserves for each step\'s process (entrypoint_num_cpus).'),
  gpus: z.number().min(0).max(BOUNDS.rayGpus.max, tooBig(BOUNDS.rayGpus)).default(0)
    .describe('GPUs Ray reserves for each step (entrypoint_num_gpus); Ray sets CUDA_VISIBLE_DEVICES for the step, whose TensorFlow.js then uses them if the node has @tensorflow/tfjs-node-gpu. Fractions share a GPU.'),
  memoryMb: boundedCount('rayMemoryMb').optional().describe('Memory Ray reserves for each step, in MiB (entrypoint_memory); none by default.'),
  custom: z.record(boundedString('shortText'), z.number().min(0).max(BOUNDS.rayGpus.max, tooBig(BOUNDS.rayGpus))).default({})
    .describe('Custom Ray resources each step needs (entrypoint_resources), e.g. { "accelerator_type:A100": 0.001 } to land on an A100 node.'),
});

export const ComputeSchema = z.strictObject({
  placement: z.enum(['worker', 'ray']).default('worker')
    .describe('`worker`: model steps run on the compute host of the creditflow worker the run is pinned to. `ray`: each model step (warm start, rollout, SPO values, update, evaluate, the preference steps) runs as a Ray job on an existing Ray cluster; the nodes need Node, this project and the state folder on a shared file system (README, "A Ray cluster").'),
  address: boundedString('pathChars').regex(/^(https?:\/\/)?[^\s/:]+(:\d+)?\/?$/, 'a Ray dashboard address: http://host:port (the job API, port 8265 by default)').optional()
    .describe('The Ray head\'s dashboard, which serves the job-submission API: http://host:8265. Default: the worker\'s RAY_ADDRESS.'),
  resources: RayResourcesSchema.default(RayResourcesSchema.parse({})).describe('What Ray reserves for each step (placement ray).'),
  projectDir: boundedString('pathChars').optional()
    .describe('Where this project is installed on the Ray nodes (its bin/creditflow.mjs runs each step). Default: the submitting worker\'s own project folder, at the same path on the nodes.'),
}).superRefine((compute, ctx) => {
  if (compute.placement === 'ray') return;
  for (const key of ['address', 'projectDir'] as const) {
    if (compute[key] !== undefined) ctx.addIssue({ code: 'custom', path: [key], message: "is only used with compute.placement 'ray'" });
  }
  if (JSON.stringify(compute.resources) !== JSON.stringify(RayResourcesSchema.parse({}))) {
    ctx.addIssue({ code: 'custom', path: ['resources'], message: "is only used with compute.placement 'ray'" });
  }
});

export type ComputeConfig = z.infer<typeof ComputeSchema>;
