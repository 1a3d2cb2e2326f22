export { composeEnvironment, type EnvironmentStacks } from './compose';
export { AWS_PROVIDER_VERSION, EnvironmentStack, baseTags, type EnvironmentStackProps } from './environment-stack';
export {
  MAX_MANAGED_POLICY_CHARACTERS,
  deployPolicies,
  deployPolicy,
  splitPolicy,
  terraformCloudTrustPolicy,
  UNGRANTED_CALLS,
  type SynthesizedStack,
} from './deploy-policy';
export { loadNamedEnvironment, runEnvironmentApp, synthEnvironment, type EnvironmentAppOptions } from './synth';
