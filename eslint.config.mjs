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
  // Who may import whom (config imports no project, the controller runtime no cdktf) is
  // checked on Nx's project graph by tools/boundaries.test.ts, from each project's layer tag.
);
