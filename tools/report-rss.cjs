// Preloaded by tools/bench-synth.ts into the process it measures: writes that
// process's peak RSS (KiB) to $BENCH_RSS_FILE on exit.
process.on('exit', () => {
  require('node:fs').writeFileSync(process.env.BENCH_RSS_FILE, String(process.resourceUsage().maxRSS));
});
