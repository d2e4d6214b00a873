/** Another process's resident memory and CPU time, read from Linux `/proc/<pid>/` (see proc(5)). */
import { readdir, readFile, writeFile } from 'node:fs/promises';

/** A `kB` field of `/proc/<pid>/status` (VmRSS, VmHWM, …) in bytes, or null when unreadable. */
export async function statusBytes(pid: number, field: 'VmRSS' | 'VmHWM'): Promise<number | null> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status);
    return match?.[1] === undefined ? null : Number(match[1]) * 1024;
  } catch {
    return null;
  }
}

/**
 * Resets the process's peak RSS (VmHWM) to its current RSS — writing 5 to clear_refs, Linux ≥ 4.0 —
 * so the next reading covers only what happens after this call. False when not permitted.
 */
async function resetPeak(pid: number): Promise<boolean> {
  try {
    await writeFile(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

export interface PeakWatch {
  /** Stops sampling; the highest of the kernel's VmHWM (when reset worked) and the samples. */
  stop(): Promise<number | null>;
}

/**
 * Watches a process's peak RSS from now on: resets VmHWM and also samples VmRSS, so the figure
 * holds even where clear_refs is not writable (the samples may then miss a short spike).
 */
export async function watchPeak(pid: number, intervalMs = 20): Promise<PeakWatch> {
  const reset = await resetPeak(pid);
  let sampled: number | null = await statusBytes(pid, 'VmRSS');
  let pending: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    pending = statusBytes(pid, 'VmRSS').then((rss) => {
      if (rss !== null && (sampled === null || rss > sampled)) sampled = rss;
    });
  }, intervalMs);
  return {
    async stop() {
      clearInterval(timer);
      await pending;
      const kernelPeak = reset ? await statusBytes(pid, 'VmHWM') : null;
      if (kernelPeak === null) return sampled;
      return sampled === null ? kernelPeak : Math.max(kernelPeak, sampled);
    },
  };
}

/** Clock ticks per second of /proc/<pid>/stat times: USER_HZ, 100 on every Linux ABI Node runs on. */
const USER_HZ = 100;

/**
 * CPU seconds (user + system, all threads) the process has used so far, or null when unreadable.
 * Resolution 10 ms: fine over a run of seconds.
 */
export async function cpuSeconds(pid: number): Promise<number | null> {
  const own = await ownCpuSeconds(pid);
  if (own === null) return null;
  // A Bucket with BUCKET_WORKERS > 1 is a primary and its workers: all of them are counted.
  let total = own;
  for (const child of await childrenOf(pid)) total += (await cpuSeconds(child)) ?? 0;
  return total;
}

/** The live child processes of `pid` (from every thread's children list). */
async function childrenOf(pid: number): Promise<number[]> {
  try {
    const tasks = await readdir(`/proc/${pid}/task`);
    const lists = await Promise.all(
      tasks.map((task) => readFile(`/proc/${pid}/task/${task}/children`, 'utf8').catch(() => '')),
    );
    return lists.flatMap((list) => list.split(' ').filter(Boolean).map(Number));
  } catch {
    return [];
  }
}

async function ownCpuSeconds(pid: number): Promise<number | null> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? ticks / USER_HZ : null;
  } catch {
    return null;
  }
}

/** Jiffies of all CPUs from the first line of /proc/stat: all, idle (+ iowait), interrupts. */
async function machineJiffies(): Promise<{ total: number; idle: number; irq: number } | null> {
  try {
    const line = (await readFile('/proc/stat', 'utf8')).split('\n', 1)[0] ?? '';
    // user nice system idle iowait irq softirq steal
    const values = line.trim().split(/\s+/).slice(1, 9).map(Number);
    const at = (index: number) => values[index] ?? 0;
    const total = values.reduce((sum, value) => sum + value, 0);
    return { total, idle: at(3) + at(4), irq: at(5) + at(6) };
  } catch {
    return null;
  }
}

/** Counts a process started during the run as ours, from `track` until `untrack` (before it stops). */
export interface ProcessTracker {
  track(pid: number): Promise<void>;
  untrack(pid: number): Promise<void>;
}

export interface OthersWatch extends ProcessTracker {
  /** The fraction of the machine's CPU used by other processes since the watch began. */
  stop(): Promise<number | null>;
}

/**
 * Watches how much CPU processes other than ours (`ourPids`, and those tracked later) take from now
 * on: on a small machine, any other work takes cores from the servers and the load generator alike.
 * Interrupt time (loopback networking) is counted as ours.
 */
export async function watchOthers(ourPids: readonly number[]): Promise<OthersWatch> {
  /** CPU seconds of each live process of ours when the watch (or its tracking) began. */
  const baselines = new Map<number, number>();
  /** CPU seconds of processes of ours no longer tracked. */
  let retired = 0;
  // The bench's own process without its children: the servers it started are tracked apart.
  const ourCpu = (pid: number) => (pid === process.pid ? ownCpuSeconds(pid) : cpuSeconds(pid));
  const track = async (pid: number) => {
    baselines.set(pid, (await ourCpu(pid)) ?? 0);
  };
  const untrack = async (pid: number) => {
    const baseline = baselines.get(pid);
    if (baseline === undefined) return;
    baselines.delete(pid);
    retired += ((await ourCpu(pid)) ?? baseline) - baseline;
  };
  const machineBefore = await machineJiffies();
  for (const pid of ourPids) await track(pid);
  return {
    track,
    untrack,
    async stop() {
      const machineAfter = await machineJiffies();
      let oursUsed = retired;
      for (const [pid, baseline] of baselines) {
        oursUsed += ((await ourCpu(pid)) ?? baseline) - baseline;
      }
      if (machineBefore === null || machineAfter === null) return null;
      const total = machineAfter.total - machineBefore.total;
      if (total <= 0) return null;
      const busy = total - (machineAfter.idle - machineBefore.idle);
      const interrupts = machineAfter.irq - machineBefore.irq;
      const others = busy - interrupts - oursUsed * USER_HZ;
      return Math.max(0, others / total);
    },
  };
}
