export { composeEnvironment, type EnvironmentStacks } from './compose';
export {
  AWS_PROVIDER_VERSION,
  EnvironmentStack,
  baseTags,
  type EnvironmentStackProps,
} from './environment-stack';
export { loadNamedEnvironment, runEnvironmentApp, synthEnvironment, type EnvironmentAppOptions } from './synth';
export { synthesizeToJson, type SynthesizedEnvironment } from './testing';
