/**
 * Can this machine run the pinned CUDA build at all? Answered from the driver's files and nvidia-smi
 * before anything is downloaded (milliseconds where there is no driver), so that `npm run gpu` on a
 * machine without a usable GPU fails fast with one line saying why.
 *
 * `assessGpu` is pure (facts in, verdict out); `readGpuFacts` (engine/gpu-devices.ts) reads them.
 */
import { parseDriverVersion, parseSmiCsv, visibleDevices, describeGpu, type GpuDevice, type GpuFacts } from '../../engine/gpu-devices.js';
import { GPU_TF_VERSION, MIN_DRIVER, MIN_DRIVER_FOR_PTX_JIT, PTX_ARCH, SASS_ARCHS } from './config.js';

export interface GpuVerdict {
  ok: boolean;
  /** One line: why not, or which device will be used. */
  reason: string;
  driver?: string;
  /** TensorFlow's GPU:0. */
  device?: GpuDevice;
}

/** Numeric comparison of dotted versions: "580.159.04" vs "525.60.13". */
export function compareVersions(a: string, b: string): number {
  const x = a.split('.').map(Number);
  const y = b.split('.').map(Number);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return Math.sign(d);
  }
  return 0;
}

/**
 * How the wheel's kernels reach a GPU of compute capability `cc`: native code compiled for the same
 * major version and a minor <= cc, else the PTX JIT-compiled by the driver when cc is newer, else none.
 */
export function kernelsFor(cc: number): 'sass' | 'ptx' | 'none' {
  if (SASS_ARCHS.some((a) => Math.floor(a) === Math.floor(cc) && a <= cc + 1e-9)) return 'sass';
  return cc >= PTX_ARCH ? 'ptx' : 'none';
}

const tooOld = (driver: string) => `NVIDIA driver ${driver} is too old for the CUDA 12 libraries of tensorflow ${GPU_TF_VERSION} (needs >= ${MIN_DRIVER})`;

export function assessGpu(f: GpuFacts): GpuVerdict {
  const no = (reason: string, extra: Partial<GpuVerdict> = {}): GpuVerdict => ({ ok: false, reason, ...extra });
  if (f.platform !== 'linux' || f.arch !== 'x64') return no(`unsupported platform ${f.platform}-${f.arch} (the CUDA wheels are linux-x64 only)`);
  const procDriver = parseDriverVersion(f.procVersion);
  if (f.smiCsv === null) {
    if (f.procVersion === null) {
      return no(f.smiError ? `no NVIDIA driver: nvidia-smi says "${f.smiError}"` : 'no NVIDIA driver (no /proc/driver/nvidia/version, no nvidia-smi)');
    }
    if (f.smiError) return no(`no GPU: nvidia-smi says "${f.smiError}" (driver ${procDriver ?? '?'})`, { driver: procDriver ?? undefined });
    // A driver without its nvidia-smi (some containers): the devices are checked when TensorFlow starts.
    if (procDriver && compareVersions(procDriver, MIN_DRIVER) < 0) return no(tooOld(procDriver), { driver: procDriver });
    return { ok: true, driver: procDriver ?? undefined, reason: `NVIDIA driver ${procDriver ?? '?'}; no nvidia-smi to list the GPUs (checked when TensorFlow starts)` };
  }
  const { devices, driver: smiDriver } = parseSmiCsv(f.smiCsv);
  const driver = smiDriver ?? procDriver ?? undefined;
  if (devices.length === 0) return no(`no GPU: the NVIDIA driver${driver ? ` ${driver}` : ''} lists no device`, { driver });
  const visible = visibleDevices(devices, f.cudaVisibleDevices);
  if (visible.length === 0) return no(`no GPU visible: CUDA_VISIBLE_DEVICES=${JSON.stringify(f.cudaVisibleDevices)} hides all ${devices.length}`, { driver });
  if (driver && compareVersions(driver, MIN_DRIVER) < 0) {
    return no(tooOld(driver), { driver });
  }
  const device = visible[0];
  const cc = device.computeCapability;
  if (Number.isFinite(cc)) {
    const kernels = kernelsFor(cc);
    if (kernels === 'none') {
      return no(`wrong compute capability: ${device.name} is ${cc.toFixed(1)}; tensorflow ${GPU_TF_VERSION}'s CUDA kernels need >= ${SASS_ARCHS[0].toFixed(1)}`, { driver, device });
    }
    if (kernels === 'ptx' && driver && compareVersions(driver, MIN_DRIVER_FOR_PTX_JIT) < 0) {
      return no(`wrong compute capability: ${device.name} is ${cc.toFixed(1)}, newer than the wheel's native kernels (<= ${PTX_ARCH.toFixed(1)}), and driver ${driver} cannot JIT their CUDA 12.5 PTX (needs >= ${MIN_DRIVER_FOR_PTX_JIT})`, { driver, device });
    }
    const jit = kernels === 'ptx' ? '; kernels JIT-compiled from PTX on first use (slow first start)' : '';
    return { ok: true, driver, device, reason: `GPU 0: ${describeGpu(device)}, driver ${driver ?? '?'}${jit}` };
  }
  return { ok: true, driver, device, reason: `GPU 0: ${describeGpu(device)}, driver ${driver ?? '?'} (compute capability unknown: checked when TensorFlow starts)` };
}
