/** A worker thread that lowers its own priority (engine/thread-priority.ts) and reports its thread id. */
import { readlinkSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { lowerThisThread } from '../../engine/thread-priority.js';

parentPort!.postMessage({ lowered: lowerThisThread(), tid: readlinkSync('/proc/thread-self').split('/').pop() });
