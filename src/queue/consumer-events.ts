import { EventEmitter } from 'node:events';

export interface WorkerEventMap {
  'message:started': [{ queue: string; id: string; receiveCount: number }];
  'message:acked': [{ queue: string; id: string }];
  'message:failed': [{ queue: string; id: string; error: unknown; retryAt: Date }];
  'message:dead': [{ queue: string; id: string; deadLetterQueue: string }];
  'message:dropped': [{ queue: string; id: string }];
  'message:lease-lost': [{ queue: string; id: string }];
  'consumer:error': [Error];
}

/** Typed events a worker emits, for tests and instrumentation (`worker.events.once('message:acked', …)`). */
export class WorkerEvents extends EventEmitter<WorkerEventMap> {}
