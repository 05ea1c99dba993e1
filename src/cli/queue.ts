/** `careamics worker` and `careamics queue status`: prediction over many machines on BullMQ (Redis). */
import { Command } from 'commander';
import { queueStatus, type RunStatus, startQueueWorker } from '../node.js';
import { type CliContext, positiveInt } from './shared.js';

const QUEUE_HELP = 'Redis holding the queue: redis://HOST:PORT/DB';

/** One line per run: state, job counts, outputs. */
export function formatRun(run: RunStatus): string {
  const { waiting, active, completed, failed } = run.counts;
  const reason = run.failedReason ? ` (${run.failedReason.split('\n')[0]})` : '';
  return (
    `run ${run.runId}  ${run.state}${reason}  ${completed}/${run.jobs} jobs done: ${waiting} waiting, ` +
    `${active} active, ${completed} completed, ${failed} failed  → ${run.outputs.join(', ')}`
  );
}

export function workerCommand(ctx: CliContext): Command {
  return new Command('worker')
    .description('take prediction jobs from a queue (careamics predict --queue) until Ctrl-C or SIGTERM')
    .requiredOption('--queue <url>', QUEUE_HELP)
    .option('--concurrency <n>', 'jobs at once in this process', positiveInt, 1)
    .option('--threads <n>', 'ONNX Runtime threads per job (default: all cores / concurrency)', positiveInt)
    .option(
      '--lock-duration <ms>',
      'a job whose worker is silent this long runs again elsewhere',
      positiveInt,
      30_000,
    )
    .option('--stalled-interval <ms>', 'how often to look for such jobs', positiveInt, 30_000)
    .action(
      async (o: {
        queue: string;
        concurrency: number;
        threads?: number;
        lockDuration: number;
        stalledInterval: number;
      }) => {
        const { availableParallelism } = await import('node:os');
        const threads = o.threads ?? Math.max(1, Math.floor(availableParallelism() / o.concurrency));
        const worker = await startQueueWorker(o.queue, {
          concurrency: o.concurrency,
          threads,
          lockDurationMs: o.lockDuration,
          stalledIntervalMs: o.stalledInterval,
          onEvent: (line) => ctx.io.stdout.write(`${line}\n`),
        });
        ctx.io.stderr.write(
          `worker: taking jobs from ${o.queue} (${o.concurrency} at once, ${threads} thread(s) each); Ctrl-C to stop\n`,
        );
        await new Promise<void>((resolve) => {
          process.once('SIGINT', resolve);
          process.once('SIGTERM', resolve);
        });
        ctx.io.stderr.write('worker: stopping after the jobs in hand (Ctrl-C again to stop at once)…\n');
        // A worker whose Redis is gone cannot hand its jobs back and would wait; a second signal ends it, as
        // Ctrl-C twice does everywhere (its jobs' locks expire and they run elsewhere).
        const atOnce = () => process.exit(130);
        process.once('SIGINT', atOnce);
        process.once('SIGTERM', atOnce);
        await worker.close();
        process.off('SIGINT', atOnce);
        process.off('SIGTERM', atOnce);
      },
    );
}

export function queueCommand(ctx: CliContext): Command {
  const status = new Command('status')
    .description('progress of the prediction runs on a queue: jobs waiting, active, completed, failed')
    .requiredOption('--queue <url>', QUEUE_HELP)
    .option('--run <id>', 'only this run')
    .action(async (o: { queue: string; run?: string }) => {
      const runs = await queueStatus(o.queue, o.run);
      if (runs.length === 0) ctx.io.stdout.write(`no runs on ${o.queue}\n`);
      for (const run of runs) ctx.io.stdout.write(`${formatRun(run)}\n`);
    });
  return new Command('queue').description('prediction runs on a BullMQ (Redis) queue').addCommand(status);
}
