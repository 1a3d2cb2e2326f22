export { composeEnvironment, type EnvironmentStacks } from './compose';
export { AWS_PROVIDER_SOURCE, EnvironmentStack, environmentStackProps, type EnvironmentStackProps } from './environment-stack';
export { deployPolicy, UNGRANTED_CALLS, type SynthesizedStack } from './deploy-policy';
export { loadNamedEnvironment, runEnvironmentApp, synthEnvironment, type EnvironmentAppOptions } from './synth';
