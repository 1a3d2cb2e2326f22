// PHP files the workers run are imported as text: esbuild's text loader in apps
// (tools/run-app.cjs) and the text transform in jest (tools/jest-text-transform.cjs).
declare module '*.php' {
  const source: string;
  export default source;
}
