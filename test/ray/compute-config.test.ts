/** The `compute` section of RL and preference configs: defaults, Ray settings, errors naming their field and line. */
import { describe, expect, it } from 'vitest';
import { parseConfigYaml, parseRunConfigYaml } from '../../configs/load.js';

const rl = (compute: string) => `experiment: x\ndata:\n  source: arithmetic\n${compute}`;

describe('compute config', () => {
  it('defaults to the worker, and takes a Ray head with per-step resources', () => {
    expect(parseConfigYaml(rl('')).compute).toEqual({ placement: 'worker', resources: { cpus: 1, gpus: 0, custom: {} } });
    const config = parseConfigYaml(rl('compute:\n  placement: ray\n  address: http://head:8265\n  resources: { gpus: 0.5, memoryMb: 4096, custom: { "accelerator_type:A100": 0.001 } }\n'));
    expect(config.compute).toEqual({
      placement: 'ray', address: 'http://head:8265', resources: { cpus: 1, gpus: 0.5, memoryMb: 4096, custom: { 'accelerator_type:A100': 0.001 } },
    });
    const preference = parseRunConfigYaml('kind: preference\nexperiment: p\ndata: { source: arithmetic }\ncompute: { placement: ray, address: "10.0.0.5:8265" }\n');
    expect(preference.config.compute.placement).toBe('ray');
  });

  it('names the field and line of a bad setting before anything runs', () => {
    const table: [string, RegExp][] = [
      ['compute:\n  address: http://head:8265\n', /compute\.address \(line 5\): is only used with compute\.placement 'ray'/],
      ['compute:\n  resources: { gpus: 1 }\n', /compute\.resources \(line 5\): is only used with compute\.placement 'ray'/],
      ['compute:\n  placement: ray\n  address: ray://head:10001\n', /compute\.address \(line 6\): a Ray dashboard address/],
      ['compute:\n  placement: ray\n  resources: { gpus: -1 }\n', /compute\.resources\.gpus \(line 6\)/],
      ['compute:\n  placement: slurm\n', /compute\.placement \(line 5\)/],
      ['compute:\n  placement: ray\n  adress: http://h:8265\n', /adress/],
    ];
    for (const [yaml, error] of table) expect(() => parseConfigYaml(rl(yaml)), yaml).toThrow(error);
  });
});
