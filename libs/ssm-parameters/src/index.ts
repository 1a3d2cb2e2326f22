export { ParameterStore, parameterStoreProps, type LaneStage, type ParameterStoreProps, type PlainValue } from './parameter-store';
