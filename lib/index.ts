// The public API of modelship, listed name by name: what a user composes, configures or reads.
// Handler internals (settings variables, metric tables, item mappers, request parsers) stay out;
// tests reach them by path. test/index.test.ts holds the list of runtime names.

// Errors
export { ModelshipError } from './runtime/errors';

// Environments and stages
export type { EnvironmentConfig, EnvironmentSettings } from './config/environment-config';
export { parseEnvironments } from './config/load-environments';
export { addEnvironmentStages } from './stage/environment-stages';
export { ModelshipStage } from './stage/modelship-stage';
export type { ModelshipStageProps } from './stage/modelship-stage';

// Model registry
export { ModelPackageGroup, ModelPackageGroupBase } from './registry/model-package-group';
export type { IModelPackageGroup, ModelPackageGroupProps } from './registry/model-package-group';
export { ModelRegistry, ModelRegistryBase } from './registry/model-registry';
export type { IModelRegistry, ModelArtifactLocation, ModelRegistryAttributes, ModelRegistryProps } from './registry/model-registry';

// Training
export { ContainerImage } from './training/container-image';
export { TrainingInstanceType } from './training/training-instance-type';
export { TrainingPipeline, TrainingPipelineBase } from './training/training-pipeline';
export type {
  ITrainingPipeline, TrainingPipelineAttributes, InferenceOptions, ModelApprovalStatus, NewDataTrigger, SpotOptions, TrainingInput, TrainingInputMode, TrainingMetric, TrainingPipelineProps,
} from './training/training-pipeline';

// Serving
export { DeploymentStrategy, TrafficSize } from './serving/deployment-strategy';
export type { AllAtOnceOptions, CanaryOptions, LinearOptions, RollingOptions, StrategyOptions, StrategyTarget } from './serving/deployment-strategy';
export { EndpointModel } from './serving/endpoint-model';
export type { ArtifactModelOptions, BoundModel, ModelBindOptions, ModelPackageOptions } from './serving/endpoint-model';
export { InferenceInstanceType } from './serving/inference-instance-type';
export { ModelEndpoint, ModelEndpointBase } from './serving/model-endpoint';
export type {
  DataCaptureOptions, IEndpointVariant, IModelEndpoint, ModelEndpointAttributes, ModelEndpointProps, ServerlessOptions, VariantAutoScaling, VariantProps,
} from './serving/model-endpoint';
export { TrafficOwnership } from './serving/traffic-ownership';
export type { VariantProperty } from './serving/traffic-ownership';

// Inference hooks
export { GatewayAuth } from './hooks/gateway-auth';
export type { JwtAuthOptions, JwtScopes } from './hooks/gateway-auth';
export { InferenceGateway, InferenceGatewayBase } from './hooks/inference-gateway';
export type {
  GatewayThrottle, IGatewayVariant, IInferenceGateway, InferenceGatewayAttributes, InferenceGatewayProps,
} from './hooks/inference-gateway';
export { InferenceLogStore, InferenceLogStoreBase } from './hooks/inference-log-store';
export type {
  IInferenceLogStore, InferenceLogAnalyticsOptions, InferenceLogStoreAttributes, InferenceLogStoreProps,
} from './hooks/inference-log-store';
export type { Assignment, GatewayRecord, InferenceRecord, OutcomeRecord } from './hooks/runtime/inference-record';

// Release decisions
export { ReleaseController, ReleaseControllerBase } from './hooks/release-controller';
export type {
  DecisionRuleOptions, IReleaseController, ReleaseControllerAttributes, ReleaseControllerProps, ReleaseMetrics,
} from './hooks/release-controller';
export { RolloutPolicy } from './release/rollout-policy';
export type { BanditPolicyOptions, CommonPolicyOptions, ExperimentPolicyOptions, ProgressivePolicyOptions } from './release/rollout-policy';
export type {
  Action, BanditPolicySpec, CommonPolicySpec, Evidence, ExperimentPolicySpec, GuardrailSpec, Phase, PolicySpec,
  ArmSummary, PrimaryMetricSpec, ProgressivePolicySpec,
} from './release/rollout-types';
export type { AuditAction, AuditEntry } from './release/rollout-record';
export type { ManualAction } from './release/decide';
export type { HookAnswer, HookKind, HookPayload } from './release/hook-payload';
