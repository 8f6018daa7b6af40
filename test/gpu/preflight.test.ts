/**
 * `npm run gpu`'s preflight: what each machine is told, from the driver's files and nvidia-smi's
 * output as those tools print them (no GPU needed). npx vitest run test/gpu/preflight.test.ts
 */
import { describe, expect, it } from 'vitest';
import { describeGpu, firstVisibleGpu, parseDriverVersion, parseSmiCsv, visibleDevices, type GpuFacts } from '../../engine/gpu-devices.js';
import { assessGpu, compareVersions, kernelsFor } from '../../scripts/gpu/preflight.js';

const PROC_CLOSED = 'NVRM version: NVIDIA UNIX x86_64 Kernel Module  580.159.04  Thu Sep 25 20:46:15 UTC 2025\nGCC version:  gcc version 12.2.0\n';
const PROC_OPEN = 'NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  535.104.05  Release Build  (dvs-builder@U16-T02-35-3)  Sat Aug 19 01:13:49 UTC 2023\n';
const H100 = '0, GPU-5a1c2e3f-0000-1111-2222-333344445555, NVIDIA H100 80GB HBM3, 81559, 9.0, 580.159.04\n';
const TWO = `${H100}1, GPU-77aa0000-0000-1111-2222-333344445555, Tesla M60, 7680, 5.2, 580.159.04\n`;

const facts = (over: Partial<GpuFacts>): GpuFacts => ({
  platform: 'linux', arch: 'x64', procVersion: PROC_CLOSED, smiCsv: H100, smiError: null, cudaVisibleDevices: undefined, ...over,
});
const row = (name: string, cc: string, driver = '580.159.04') => `0, GPU-0123456789, ${name}, 16384, ${cc}, ${driver}\n`;

describe('preflight verdicts', () => {
  const cases: Array<[string, Partial<GpuFacts>, boolean, RegExp]> = [
    ['no driver at all', { procVersion: null, smiCsv: null }, false, /^no NVIDIA driver \(no \/proc\/driver\/nvidia\/version, no nvidia-smi\)$/],
    ['nvidia-smi without a driver', { procVersion: null, smiCsv: null, smiError: "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver." }, false, /^no NVIDIA driver: nvidia-smi says "NVIDIA-SMI has failed/],
    ['driver, no device', { smiCsv: null, smiError: 'No devices were found' }, false, /^no GPU: nvidia-smi says "No devices were found" \(driver 580\.159\.04\)$/],
    ['empty device list', { smiCsv: '' }, false, /^no GPU: the NVIDIA driver 580\.159\.04 lists no device$/],
    ['all hidden', { cudaVisibleDevices: '' }, false, /^no GPU visible: CUDA_VISIBLE_DEVICES="" hides all 1$/],
    ['hidden by -1', { cudaVisibleDevices: '-1' }, false, /^no GPU visible: CUDA_VISIBLE_DEVICES="-1"/],
    ['old driver', { smiCsv: row('Tesla T4', '7.5', '470.82.01') }, false, /^NVIDIA driver 470\.82\.01 is too old for the CUDA 12 libraries .*needs >= 525\.60\.13/],
    ['Maxwell', { smiCsv: row('Tesla M60', '5.2') }, false, /^wrong compute capability: Tesla M60 is 5\.2; .*need >= 6\.0$/],
    ['Kepler', { smiCsv: row('Tesla K80', '3.7') }, false, /^wrong compute capability: Tesla K80 is 3\.7/],
    ['Blackwell on a driver too old to JIT', { smiCsv: row('NVIDIA B200', '10.0', '550.54.15') }, false, /^wrong compute capability: NVIDIA B200 is 10\.0, newer than .*cannot JIT .*needs >= 555\.42/],
    ['H100', {}, true, /^GPU 0: NVIDIA H100 80GB HBM3, 81559 MiB, compute capability 9\.0, driver 580\.159\.04$/],
    ['T4 (7.5 runs sm_70 code)', { smiCsv: row('Tesla T4', '7.5') }, true, /^GPU 0: Tesla T4, 16384 MiB, compute capability 7\.5/],
    ['Blackwell via PTX', { smiCsv: row('NVIDIA B200', '10.0') }, true, /JIT-compiled from PTX on first use/],
    ['driver files but no nvidia-smi', { smiCsv: null, smiError: null }, true, /^NVIDIA driver 580\.159\.04; no nvidia-smi to list the GPUs/],
    ['old driver and no nvidia-smi', { procVersion: PROC_OPEN.replace('535.104.05', '520.61.05'), smiCsv: null }, false, /^NVIDIA driver 520\.61\.05 is too old/],
    ['compute capability unknown (old nvidia-smi)', { smiCsv: row('Tesla V100', '[N/A]') }, true, /compute capability unknown: checked when TensorFlow starts/],
    ['macOS', { platform: 'darwin', arch: 'arm64' }, false, /^unsupported platform darwin-arm64/],
  ];
  it.each(cases)('%s', (_name, over, ok, reason) => {
    const v = assessGpu(facts(over));
    expect(v.reason).toMatch(reason);
    expect(v.ok).toBe(ok);
  });

  it('judges the device TensorFlow calls GPU:0, i.e. the first one CUDA_VISIBLE_DEVICES lets through', () => {
    expect(assessGpu(facts({ smiCsv: TWO })).ok).toBe(true);
    expect(assessGpu(facts({ smiCsv: TWO, cudaVisibleDevices: '1' })).reason).toMatch(/^wrong compute capability: Tesla M60 is 5\.2/);
    expect(assessGpu(facts({ smiCsv: TWO, cudaVisibleDevices: '1,0' })).ok).toBe(false);
    expect(assessGpu(facts({ smiCsv: TWO, cudaVisibleDevices: 'GPU-5a1c2e3f' })).device?.name).toBe('NVIDIA H100 80GB HBM3');
  });
});

describe('reading the driver and nvidia-smi', () => {
  it('parses the kernel module version of closed and open drivers', () => {
    expect(parseDriverVersion(PROC_CLOSED)).toBe('580.159.04');
    expect(parseDriverVersion(PROC_OPEN)).toBe('535.104.05');
    expect(parseDriverVersion(null)).toBeNull();
  });

  it('parses the device query, including an unknown compute capability', () => {
    const { devices, driver } = parseSmiCsv(TWO);
    expect(driver).toBe('580.159.04');
    expect(devices.map((d) => [d.index, d.name, d.memoryMiB, d.computeCapability])).toEqual([
      [0, 'NVIDIA H100 80GB HBM3', 81559, 9.0],
      [1, 'Tesla M60', 7680, 5.2],
    ]);
    expect(Number.isNaN(parseSmiCsv(row('Tesla V100', '[N/A]')).devices[0].computeCapability)).toBe(true);
    expect(describeGpu(devices[0])).toBe('NVIDIA H100 80GB HBM3, 81559 MiB, compute capability 9.0');
  });

  it('filters devices as CUDA does: indices or UUID prefixes, in the given order, stopping at an unknown entry', () => {
    const { devices } = parseSmiCsv(TWO);
    const names = (v: string | undefined) => visibleDevices(devices, v).map((d) => d.index);
    expect(names(undefined)).toEqual([0, 1]);
    expect(names('1,0')).toEqual([1, 0]);
    expect(names('0,7,1')).toEqual([0]);
    expect(names('GPU-77aa')).toEqual([1]);
    expect(names('')).toEqual([]);
    // The device the worker names at start is TensorFlow's GPU:0.
    expect(firstVisibleGpu(facts({ smiCsv: TWO, cudaVisibleDevices: '1' }))?.name).toBe('Tesla M60');
    expect(firstVisibleGpu(facts({ smiCsv: null }))).toBeNull();
  });

  it('maps compute capabilities to native code, PTX or nothing', () => {
    expect([6.0, 6.1, 7.0, 7.5, 8.0, 8.6, 8.9, 9.0].map(kernelsFor)).toEqual(Array(8).fill('sass'));
    expect([10.0, 12.0].map(kernelsFor)).toEqual(['ptx', 'ptx']);
    expect([3.5, 5.0, 5.2].map(kernelsFor)).toEqual(['none', 'none', 'none']);
    expect(compareVersions('580.159.04', '525.60.13')).toBe(1);
    expect(compareVersions('525.60.13', '525.60.13')).toBe(0);
    expect(compareVersions('525.60', '525.60.13')).toBe(-1);
  });
});
