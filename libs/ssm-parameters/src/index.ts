export {
  ParameterStore,
  parameterStoreProps,
  SECRET_PLACEHOLDER,
  secretDescription,
  type LaneStage,
  type ParameterStoreProps,
  type PlainValue,
} from './parameter-store';
