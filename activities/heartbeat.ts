/** Heartbeating from the activity's own event loop while its work runs elsewhere (a thread, a pool). */
import { Context } from '@temporalio/activity';

/** A few beats per timeout window, at most one a second. */
function heartbeatInterval(heartbeatTimeoutMs: number | undefined): number {
  return Math.max(50, Math.min(1000, (heartbeatTimeoutMs ?? 30_000) / 4));
}

/** Heartbeat with the latest `details()` until `work` settles. */
export async function whileHeartbeating<T>(work: Promise<T>, details: () => unknown = () => undefined): Promise<T> {
  const ctx = Context.current();
  ctx.heartbeat(details());
  const timer = setInterval(() => ctx.heartbeat(details()), heartbeatInterval(ctx.info.heartbeatTimeoutMs));
  try {
    return await work;
  } finally {
    clearInterval(timer);
  }
}
