// The worker thread of fit-runner.ts: builds the rank's FitWork from its workerData, sends the plan,
// then answers run and predict requests one at a time.
import { parentPort, workerData } from 'node:worker_threads';
import { FitWork, type FitWorkInit } from './fit-work.js';
import type { FitReply, FitRequest } from './fit-runner.js';

const port = parentPort!;
const send = (m: FitReply): void => port.postMessage(m);
let work: FitWork | undefined;
try {
  work = new FitWork(workerData as FitWorkInit);
  send({ plan: work.plan });
} catch (e) {
  send({ initError: (e as Error)?.message ?? String(e) });
}
port.on('message', (req: FitRequest) => {
  if (!work) return;
  try {
    send({ id: req.id, value: req.op === 'run' ? work.run(req.groups) : work.predict(req.candidate, req.part, req.parts) });
  } catch (e) {
    send({ id: req.id, error: (e as Error)?.message ?? String(e) });
  }
});
