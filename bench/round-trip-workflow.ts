/** The workflow of bench/round-trip.ts: `count` no-op activities, one after another. */
import { proxyActivities } from '@temporalio/workflow';

const { noop } = proxyActivities<{ noop(): Promise<void> }>({ taskQueue: 'round-trip-activities', startToCloseTimeout: '10 seconds' });

export async function activityLoop(count: number): Promise<void> {
  for (let i = 0; i < count; i++) await noop();
}
