import type { Command } from 'commander';

/** `weft demo`: the demo mesh (see examples/demo). */
export const registerDemoCommand = (program: Command): void => {
  program
    .command('demo')
    .description('start a demo mesh on loopback and print where to look')
    .action(async () => {
      const { runDemo } = await import('../demo/run-demo.js');
      await runDemo();
    });
};
