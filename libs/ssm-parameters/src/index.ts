export {
  ParameterStore,
  parameterStoreProps,
  SECRET_PLACEHOLDER,
  type LaneStage,
  type ParameterStoreProps,
  type PlainValue,
} from './parameter-store';
