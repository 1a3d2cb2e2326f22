import tseslint from 'typescript-eslint';

const providerRoot = {
  name: '@cdktf/provider-aws',
  message: 'Import the resource by deep path (@cdktf/provider-aws/lib/<resource>): the package root loads ~2,200 modules in every process.',
};

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/cdktf.out/**', 'dist/**', '.nx/**', '.venv/**', '**/*.js', '**/*.cjs'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      'no-restricted-imports': ['error', { paths: [providerRoot] }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  // A function a newcomer reads on one screen: 60 lines in the libraries, 100 in the tools
  // (counted from its first line to its last, nested functions included). Tests are tables.
  {
    files: ['libs/**/*.ts', 'apps/**/*.ts'],
    ignores: ['**/*.test.ts', '**/testing.ts', '**/testing/**'],
    rules: { 'max-lines-per-function': ['error', { max: 60 }] },
  },
  {
    files: ['tools/**/*.ts'],
    ignores: ['**/*.test.ts', '**/testing.ts', '**/testing/**'],
    rules: { 'max-lines-per-function': ['error', { max: 100 }] },
  },
  // Who may import whom (config imports no project, the controller runtime no cdktf) is
  // checked on Nx's project graph by tools/boundaries.test.ts, from each project's layer tag.
);
