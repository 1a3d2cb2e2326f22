/*
 * The environment a test's throwaway git repository runs under: no user or system
 * configuration, a fixed author, and nothing inherited that would point git or Nx at
 * the real checkout (GIT_DIR and friends, NX_BASE / NX_HEAD, the job summary file).
 */
export const ISOLATED_GIT_ENV: NodeJS.ProcessEnv = {
  ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(GIT_|NX_BASE$|NX_HEAD$|GITHUB_STEP_SUMMARY$)/.test(k))),
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_AUTHOR_NAME: 'Test',
  GIT_AUTHOR_EMAIL: 'test@example.com',
  GIT_COMMITTER_NAME: 'Test',
  GIT_COMMITTER_EMAIL: 'test@example.com',
};
