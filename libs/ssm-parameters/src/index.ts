export {
  DEFAULT_KEY_DELETION_WINDOW_DAYS,
  MAX_STANDARD_VALUE_BYTES,
  ParameterStore,
  SECRET_PLACEHOLDER,
  hostConsumerState,
  parameterStoreProps,
  type LaneStage,
  type ParameterStoreProps,
  type PlainValue,
} from './parameter-store';
