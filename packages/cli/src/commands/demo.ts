import type { Command } from 'commander';

/** `weft demo`: the demo mesh (see examples/demo). */
export const registerDemoCommand = (program: Command): void => {
  program
    .command('demo')
    .description('start a demo mesh on loopback and print where to look')
    .option('--port <port>', 'status page port on 127.0.0.1 (0 picks one; another is used if busy)', '7700')
    .option('--data-dir <dir>', 'data directory; the demo writes under <dir>/demo', process.env['WEFT_DATA_DIR'] ?? '.weft')
    .action(async (flags: { port: string; dataDir: string }) => {
      const { runDemo } = await import('../demo/run-demo.js');
      await runDemo({ port: Number(flags.port), dataDir: flags.dataDir });
    });
};
