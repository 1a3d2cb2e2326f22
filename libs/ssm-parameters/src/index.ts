export {
  MAX_STANDARD_VALUE_BYTES,
  ParameterStore,
  SECRET_PLACEHOLDER,
  hostConsumerState,
  parameterStoreProps,
  type LaneStage,
  type ParameterStoreProps,
  type PlainValue,
} from './parameter-store';
