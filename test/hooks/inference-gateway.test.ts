import { CfnParameter, Duration, Size, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { EndpointModel, InferenceInstanceType, ModelEndpoint, ModelRegistry } from '../../lib';
import { GatewayAuth } from '../../lib/hooks/gateway-auth';
import { DEFAULT_OUTCOME_TYPES, GATEWAY_SETTINGS_VARIABLE, GatewaySettings } from '../../lib/hooks/runtime/gateway-settings';
import { policyOf, TemplateJson } from '../cli/granted-policy';
import { InferenceGateway, InferenceGatewayProps } from '../../lib/hooks/inference-gateway';
import { ReleaseController } from '../../lib/hooks/release-controller';
import { ModelshipError } from '../../lib/runtime/errors';
import { RECORD_FILTER_PATTERN } from '../../lib/hooks/runtime/inference-record';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { nagFindings, problemsOf, testApp, testStack } from '../helpers';

const PACKAGE = 'arn:aws:sagemaker:eu-west-1:111111111111:model-package/churn';

function fixture(extra: Partial<InferenceGatewayProps> = {}) {
  const stack = testStack();
  const registry = new ModelRegistry(stack, 'Registry');
  const endpoint = new ModelEndpoint(stack, 'Churn', {
    endpointName: 'churn-ab',
    variants: ['baseline', 'candidate'].map((variantName, i) => ({
      variantName,
      model: EndpointModel.fromModelPackage(registry, `${PACKAGE}/${i + 1}`),
      instanceType: InferenceInstanceType.M5_LARGE,
      initialWeight: i === 0 ? 90 : 10,
    })),
  });
  const gateway = new InferenceGateway(stack, 'Gateway', { endpoint, ...extra });
  return { stack, endpoint, gateway };
}

/** The settings a gateway's handler receives, as its template renders them (JSON with references joined in). */
function settingsOf(stack: Stack, handler: lambda.Function): string {
  const fn = Template.fromStack(stack).toJSON().Resources[stack.getLogicalId(handler.node.defaultChild as never)];
  return JSON.stringify(fn.Properties.Environment.Variables[GATEWAY_SETTINGS_VARIABLE]).replace(/\\"/g, '"');
}

describe('InferenceGateway with default settings', () => {
  const { stack, gateway } = fixture();
  const template = Template.fromStack(stack);

  test('has an HTTP API with one POST route per permission, each requiring IAM authentication and no scope', () => {
    template.resourceCountIs('AWS::ApiGatewayV2::Api', 1);
    const routes = template.findResources('AWS::ApiGatewayV2::Route');
    expect(Object.keys(routes)).toHaveLength(3);
    expect(Object.values(routes).map((r) => r.Properties.RouteKey).sort()).toEqual(['POST /outcomes', 'POST /invocations', 'POST /variants/{variant}/invocations'].sort());
    for (const route of Object.values(routes)) {
      expect(route.Properties).toMatchObject({ AuthorizationType: 'AWS_IAM' });
      expect(route.Properties.AuthorizationScopes).toBeUndefined();
    }
  });

  test('lets API Gateway invoke each function from any route of its own API only', () => {
    const permissions = Object.values(template.findResources('AWS::Lambda::Permission', { Properties: { Principal: 'apigateway.amazonaws.com' } }));
    expect(permissions).toHaveLength(2);
    const apiId = stack.getLogicalId(gateway.api.node.defaultChild as never);
    const sourceOf = (fn: lambda.Function) => JSON.stringify(permissions.find((p) => p.Properties.FunctionName['Fn::GetAtt'][0] === stack.getLogicalId(fn.node.defaultChild as never))!.Properties.SourceArn);
    // Both invocation routes, one with a path parameter, reach the invoke function: its permission covers the API.
    expect(sourceOf(gateway.invokeFunction)).toContain(`{"Ref":"${apiId}"},"/*/*/*"`);
    expect(sourceOf(gateway.outcomeFunction)).toContain(`{"Ref":"${apiId}"},"/*/*/outcomes"`);
  });

  test('throttles and logs access on its stage', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 100, ThrottlingBurstLimit: 200 },
      AccessLogSettings: { DestinationArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^GatewayAccessLog'), 'Arn'] }, Format: Match.stringLikeRegexp('requestId') },
    });
  });

  test('encrypts its access log and its handlers\' logs (the two request handlers\' hold sampled bodies) with its key, and lets CloudWatch Logs use the key', () => {
    const key = { 'Fn::GetAtt': [stack.getLogicalId(gateway.encryptionKey.node.defaultChild as never), 'Arn'] };
    // The gateway's own, not its log store's (which the store's key encrypts).
    const groups = Object.entries(template.findResources('AWS::Logs::LogGroup')).filter(([id]) => id.startsWith('Gateway') && !id.startsWith('GatewayLogStore'));
    expect(groups.map(([id]) => id.replace(/[0-9A-F]{8}$/, '')).sort()).toEqual(['GatewayAccessLog', 'GatewayInvokeLogs', 'GatewayKeyRotationLogs', 'GatewayOutcomeLogs']);
    expect(groups.map(([, g]) => g.Properties.KmsKeyId)).toEqual(groups.map(() => key));
    template.hasResourceProperties('AWS::KMS::Key', {
      Description: Match.stringLikeRegexp('^Encrypts the inference gateway'),
      KeyPolicy: { Statement: Match.arrayWith([Match.objectLike({ Sid: 'CloudWatchLogsEncryption', Principal: { Service: { 'Fn::Join': ['', ['logs.', { Ref: 'AWS::Region' }, '.amazonaws.com']] } } })]) },
    });
  });

  test('hands both handlers the same settings, with the endpoint\'s variants and model versions', () => {
    const json = settingsOf(stack, gateway.invokeFunction);
    for (const expected of ['"endpointName":"churn-ab"', '"variants":["baseline","candidate"]', `"baseline":"${PACKAGE}/1"`, `"candidate":"${PACKAGE}/2"`,
      '"maxPayloadBytes":1048576', '"weightsTtlSeconds":10', '"assignmentSalt":"churn-ab"', '"bodySampleRate":0.1', '"redactFields":[]',
      '"maxRecordedBodyBytes":65536', '"outcomeWindowSeconds":604800', '"outcomeTypes":["purchase"]', '"maxOutcomeValue":1000000000']) {
      expect(json).toContain(expected);
    }
    expect(settingsOf(stack, gateway.outcomeFunction)).toEqual(json);
    // A finite list even when the props name none: the documented default, which the handlers enforce.
    expect(gateway.outcomeTypes).toEqual(DEFAULT_OUTCOME_TYPES);
    expect(DEFAULT_OUTCOME_TYPES).toEqual(['purchase']);
  });

  test('keeps the signing key in an encrypted secret and counts outcomes in an encrypted table with a TTL', () => {
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      KmsKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^GatewayKey'), 'Arn'] },
      GenerateSecretString: { PasswordLength: 64, ExcludePunctuation: true },
    });
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^GatewayKey'), 'Arn'] } },
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    });
    template.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Retain' });
  });

  test('ships both handlers\' record lines to the log store', () => {
    template.resourceCountIs('AWS::Logs::SubscriptionFilter', 2);
    for (const handler of [gateway.invokeFunction, gateway.outcomeFunction]) {
      template.hasResourceProperties('AWS::Logs::SubscriptionFilter', {
        LogGroupName: { Ref: stack.getLogicalId(handler.logGroup.node.defaultChild as never) },
        FilterPattern: RECORD_FILTER_PATTERN,
      });
    }
  });

  test('lets the invocation handler invoke and describe only its endpoint and read the key', () => {
    const statements = stack.resolve((gateway.invokeFunction.role!.node.tryFindChild('DefaultPolicy')!.node.defaultChild as iam.CfnPolicy).policyDocument).Statement;
    expect(statements.map((s: { Action: unknown }) => s.Action)).toEqual([
      ['logs:CreateLogStream', 'logs:PutLogEvents'],
      ['sagemaker:DescribeEndpoint', 'sagemaker:InvokeEndpoint'],
      ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'],
    ]);
    expect(statements[1].Resource).toEqual({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':sagemaker:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':endpoint/churn-ab']] });
    expect(statements[2].Resource).toEqual({ Ref: stack.getLogicalId(gateway.signingKey.node.defaultChild as never) });
  });

  test('lets the outcome handler only put items into its table and read the key', () => {
    const statements = stack.resolve((gateway.outcomeFunction.role!.node.tryFindChild('DefaultPolicy')!.node.defaultChild as iam.CfnPolicy).policyDocument).Statement;
    expect(statements.map((s: { Action: unknown }) => s.Action)).toEqual([
      ['logs:CreateLogStream', 'logs:PutLogEvents'],
      ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'],
      'dynamodb:PutItem',
      ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey*', 'kms:ReEncrypt*'],
    ]);
  });

  test('grants callers execute-api:Invoke on the route of each permission, in its stage, and nothing else', () => {
    const { stack, gateway } = fixture();
    const apiRef = { Ref: stack.getLogicalId(gateway.api.node.defaultChild as never) };
    const grants: [string, (grantee: iam.IGrantable) => iam.Grant, string][] = [
      ['Invoker', (g) => gateway.grantInvoke(g), '/$default/POST/invocations'],
      ['Forcer', (g) => gateway.grantForceVariant(g), '/$default/POST/variants/*/invocations'],
      ['Reporter', (g) => gateway.grantReportOutcomes(g), '/$default/POST/outcomes'],
    ];
    for (const [id, grant, resource] of grants) {
      const caller = new iam.Role(stack, id, { assumedBy: new iam.AccountRootPrincipal() });
      grant(caller);
      const statements = stack.resolve((caller.node.tryFindChild('DefaultPolicy')!.node.defaultChild as iam.CfnPolicy).policyDocument).Statement;
      expect(statements).toEqual([{
        Effect: 'Allow', Action: 'execute-api:Invoke',
        Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':execute-api:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':', apiRef, resource]] },
      }]);
    }
  });

  test('names the HTTP API uniquely in the app', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', { Name: Match.stringLikeRegexp('^TestStackGateway[0-9A-F]{8}$') });
  });

  test('measures each variant with the metrics and dimensions the handlers emit', () => {
    const candidate = gateway.findVariant('candidate');
    expect(candidate.variantName).toBe('candidate');
    const perVariant = [candidate.metricInvocations(), candidate.metricErrors(), candidate.metricGatewayLatency(), candidate.metricModelLatency()];
    const perOutcome = [candidate.metricOutcomes('purchase'), candidate.metricConversions('purchase'), candidate.metricOutcomeValue('purchase'),
      candidate.metricOutcomeValueSquared('purchase')];
    expect([...perVariant, ...perOutcome].map((m) => [m.namespace, m.metricName, m.statistic, m.period.toMinutes()])).toEqual([
      ['Modelship', 'Invocations', 'Sum', 5], ['Modelship', 'Errors', 'Sum', 5], ['Modelship', 'GatewayLatency', 'p99', 5], ['Modelship', 'ModelLatency', 'p99', 5],
      ['Modelship', 'Outcomes', 'Sum', 5], ['Modelship', 'Conversions', 'Sum', 5], ['Modelship', 'OutcomeValue', 'Sum', 5], ['Modelship', 'OutcomeValueSquared', 'Sum', 5],
    ]);
    for (const metric of perVariant) {
      expect(stack.resolve(metric.dimensions)).toEqual({ service: 'modelship-gateway', EndpointName: 'churn-ab', VariantName: 'candidate' });
    }
    for (const metric of perOutcome) {
      expect(stack.resolve(metric.dimensions)).toEqual({ service: 'modelship-gateway', EndpointName: 'churn-ab', VariantName: 'candidate', OutcomeType: 'purchase' });
    }
  });

  test("lets the caller's metric options win", () => {
    const latency = gateway.findVariant('baseline').metricGatewayLatency({ statistic: 'p50', period: Duration.minutes(1), label: 'p50' });
    expect([latency.statistic, latency.period.toMinutes(), latency.label]).toEqual(['p50', 1, 'p50']);
  });

  test('names the known variants when asked for another', () => {
    expect(() => gateway.findVariant('challenger')).toThrow(ModelshipError);
    expect(problemsOf(() => gateway.findVariant('challenger'))).toEqual([
      "'variantName' must be one of the gateway's variants ('baseline', 'candidate'), got 'challenger'",
    ]);
  });

  test('leaves no cdk-nag finding unacknowledged', () => {
    expect(nagFindings(stack)).toEqual([]);
  });
});

describe('InferenceGateway options', () => {
  const ISSUER = 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc';
  /** Each route's scopes, by route key. */
  const scopesOf = (stack: Stack) => Object.fromEntries(Object.values(Template.fromStack(stack).findResources('AWS::ApiGatewayV2::Route'))
    .map((r) => [r.Properties.RouteKey, r.Properties.AuthorizationScopes]));

  test('authenticates with a JWT issuer when asked, each route needing its own default scope', () => {
    const { stack } = fixture({ auth: GatewayAuth.jwt({ issuer: ISSUER, audience: ['client'] }) });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'JWT',
      JwtConfiguration: { Issuer: ISSUER, Audience: ['client'] },
    });
    template.resourceCountIs('AWS::ApiGatewayV2::Route', 3);
    template.allResourcesProperties('AWS::ApiGatewayV2::Route', { AuthorizationType: 'JWT' });
    expect(scopesOf(stack)).toEqual({
      'POST /invocations': ['modelship/invoke'],
      'POST /variants/{variant}/invocations': ['modelship/force-variant'],
      'POST /outcomes': ['modelship/outcomes'],
    });
    expect(nagFindings(stack)).toEqual([]);
  });

  test('takes the scopes it is given, keeping the default of a scope left out', () => {
    const { stack } = fixture({ auth: GatewayAuth.jwt({ issuer: ISSUER, audience: ['client'], scopes: { invoke: 'churn/predict', reportOutcomes: 'churn/outcomes' } }) });
    expect(scopesOf(stack)).toEqual({
      'POST /invocations': ['churn/predict'],
      'POST /variants/{variant}/invocations': ['modelship/force-variant'],
      'POST /outcomes': ['churn/outcomes'],
    });
  });

  test('rejects a malformed or repeated scope, naming the scope, the rule and the value', () => {
    expect(problemsOf(() => GatewayAuth.jwt({ issuer: ISSUER, audience: ['client'], scopes: { invoke: 'has space', forceVariant: '', reportOutcomes: 'x'.repeat(129) } }))).toEqual([
      "'scopes.invoke' must be 1-128 printable ASCII characters without spaces, '\"' or '\\', got 'has space'",
      "'scopes.forceVariant' must be 1-128 printable ASCII characters without spaces, '\"' or '\\', got ''",
      `'scopes.reportOutcomes' must be 1-128 printable ASCII characters without spaces, '"' or '\\', got '${'x'.repeat(129)}'`,
    ]);
    expect(problemsOf(() => GatewayAuth.jwt({ issuer: ISSUER, audience: ['client'], scopes: { reportOutcomes: 'modelship/invoke' } }))).toEqual([
      "'scopes.reportOutcomes' must differ from 'scopes.invoke': each route is a permission of its own, got 'modelship/invoke' for both",
    ]);
    expect(problemsOf(() => GatewayAuth.jwt({ issuer: ISSUER, audience: ['client'], scopes: { invoke: 'a/b"c', forceVariant: 'a\\b' } }))).toHaveLength(2);
  });

  test('passes sampling, redaction, limits and the outcome window to the handlers', () => {
    const { stack, gateway } = fixture({
      bodySampleRate: 0.5, redactFields: ['email'], maxPayloadSize: Size.kibibytes(64), weightsCacheTtl: Duration.seconds(30),
      outcomeWindow: Duration.days(30), assignmentSalt: 'exp-2', maxRecordedBodySize: Size.kibibytes(8), throttle: { rateLimit: 50, burstLimit: 20 },
    });
    const json = settingsOf(stack, gateway.invokeFunction);
    for (const expected of ['"bodySampleRate":0.5', '"redactFields":["email"]', '"maxPayloadBytes":65536', '"weightsTtlSeconds":30',
      '"outcomeWindowSeconds":2592000', '"assignmentSalt":"exp-2"', '"maxRecordedBodyBytes":8192']) {
      expect(json).toContain(expected);
    }
    Template.fromStack(stack).hasResourceProperties('AWS::ApiGatewayV2::Stage', { DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 20 } });
  });

  test('passes the outcome value bound to the handlers, and rejects one outside 1 to 1e15', () => {
    const { stack, gateway } = fixture({ maxOutcomeValue: 50_000 });
    expect(settingsOf(stack, gateway.outcomeFunction)).toContain('"maxOutcomeValue":50000');
    for (const bad of [0, 0.5, 2e15, Number.NaN]) {
      expect(problemsOf(() => fixture({ maxOutcomeValue: bad }))).toEqual([`'maxOutcomeValue' must be between 1 and 1000000000000000, got ${JSON.stringify(bad) ?? String(bad)}`]);
    }
  });

  test('passes the outcome types it publishes experiment metrics for to both handlers, and names them', () => {
    const { stack, gateway } = fixture({ outcomeTypes: ['purchase', 'churn.30d', 'app:open'] });
    for (const handler of [gateway.invokeFunction, gateway.outcomeFunction]) {
      expect(settingsOf(stack, handler)).toContain('"outcomeTypes":["purchase","churn.30d","app:open"]');
    }
    expect(gateway.outcomeTypes).toEqual(['purchase', 'churn.30d', 'app:open']);
  });

  test('rejects outcome types the outcome route would refuse, none or more than 10 of them, or a repeated one, naming each', () => {
    expect(problemsOf(() => fixture({ outcomeTypes: ['purchase', 'has space', '', 'x'.repeat(65), 'purchase'] }))).toEqual([
      "'outcomeTypes[1]' must be 1-64 letters, digits or _.:-, got 'has space'",
      "'outcomeTypes[2]' must be 1-64 letters, digits or _.:-, got ''",
      `'outcomeTypes[3]' must be 1-64 letters, digits or _.:-, got '${'x'.repeat(65)}'`,
      "'outcomeTypes' must not repeat a type, got [\"purchase\"] more than once",
    ]);
    const eleven = Array.from({ length: 11 }, (_, i) => `type-${i}`);
    expect(problemsOf(() => fixture({ outcomeTypes: eleven }))).toEqual(["'outcomeTypes' must name 1 to 10 outcome types (the gateway refuses any other type), got 11"]);
    expect(problemsOf(() => fixture({ outcomeTypes: [] }))).toEqual(["'outcomeTypes' must name 1 to 10 outcome types (the gateway refuses any other type), got 0"]);
    expect(fixture({ outcomeTypes: eleven.slice(0, 10) }).gateway.outcomeTypes).toHaveLength(10);
  });

  test('takes the HTTP API name it is given', () => {
    const { stack } = fixture({ gatewayName: 'churn-gateway' });
    Template.fromStack(stack).hasResourceProperties('AWS::ApiGatewayV2::Api', { Name: 'churn-gateway' });
  });

  test('accepts a token for each kind of checked setting, and passes it to the template', () => {
    const stack = testStack();
    const parameter = (id: string, type = 'Number') => new CfnParameter(stack, id, { type });
    const endpoint = ModelEndpoint.fromModelEndpointAttributes(stack, 'Imported', { endpointName: 'legacy', variantNames: ['a', 'b'] });
    const gateway = new InferenceGateway(stack, 'Gateway', {
      endpoint,
      auth: GatewayAuth.jwt({ issuer: parameter('Issuer', 'String').valueAsString, audience: ['client'], scopes: { reportOutcomes: parameter('OutcomeScope', 'String').valueAsString } }),
      throttle: { rateLimit: parameter('Rate').valueAsNumber, burstLimit: parameter('Burst').valueAsNumber },
      bodySampleRate: parameter('SampleRate').valueAsNumber,
      memorySize: parameter('Memory').valueAsNumber,
      maxPayloadSize: Size.bytes(parameter('MaxPayload').valueAsNumber),
      maxRecordedBodySize: Size.bytes(parameter('MaxRecorded').valueAsNumber),
      weightsCacheTtl: Duration.seconds(parameter('WeightsTtl').valueAsNumber),
      outcomeWindow: Duration.seconds(parameter('OutcomeWindow').valueAsNumber),
      redactFields: [parameter('Redact', 'String').valueAsString],
      outcomeTypes: [parameter('OutcomeType', 'String').valueAsString],
    });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', { DefaultRouteSettings: { ThrottlingRateLimit: { Ref: 'Rate' }, ThrottlingBurstLimit: { Ref: 'Burst' } } });
    template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', { JwtConfiguration: { Issuer: { Ref: 'Issuer' }, Audience: ['client'] } });
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: 'POST /outcomes', AuthorizationScopes: [{ Ref: 'OutcomeScope' }] });
    template.hasResourceProperties('AWS::Lambda::Function', { MemorySize: { Ref: 'Memory' } });
    const json = settingsOf(stack, gateway.invokeFunction);
    for (const [setting, parameterId] of [['bodySampleRate', 'SampleRate'], ['maxPayloadBytes', 'MaxPayload'], ['maxRecordedBodyBytes', 'MaxRecorded'],
      ['weightsTtlSeconds', 'WeightsTtl'], ['outcomeWindowSeconds', 'OutcomeWindow']]) {
      expect(json).toMatch(new RegExp(`"${setting}":",\\{"Ref":"${parameterId}"\\},"`));
    }
    expect(json).toContain('"redactFields":["",{"Ref":"Redact"},""]');
    expect(json).toContain('"outcomeTypes":["",{"Ref":"OutcomeType"},""]');
  });

  test('works in front of an imported endpoint that names its variants', () => {
    const stack = testStack();
    const endpoint = ModelEndpoint.fromModelEndpointAttributes(stack, 'Imported', { endpointName: 'legacy', variantNames: ['a', 'b'] });
    const gateway = new InferenceGateway(stack, 'Gateway', { endpoint });
    expect(settingsOf(stack, gateway.invokeFunction)).toContain('"variants":["a","b"],"modelVersions":{}');
  });

  test('rejects bad settings, naming each property, its range and the value', () => {
    expect(problemsOf(() => fixture({
      throttle: { rateLimit: 0, burstLimit: 1.5 }, maxPayloadSize: Size.mebibytes(6), maxRecordedBodySize: Size.kibibytes(200),
      weightsCacheTtl: Duration.minutes(10), outcomeWindow: Duration.seconds(30), bodySampleRate: 1.5, memorySize: 128, redactFields: [''],
    }))).toEqual([
      "'throttle.rateLimit' must be between 1 and 10000 requests per second, got 0",
      "'throttle.burstLimit' must be a whole number between 1 and 5000, got 1.5",
      "'maxPayloadSize' must be between 1 KiB and 5120 KiB, got 6291456 bytes",
      "'maxRecordedBodySize' must be between 1 KiB and 100 KiB, got 204800 bytes",
      "'weightsCacheTtl' must be a whole number of seconds between 1 and 300, got '10 minutes'",
      "'outcomeWindow' must be a whole number of seconds between 60 and 7776000, got '30 seconds'",
      "'bodySampleRate' must be between 0 and 1, got 1.5",
      "'memorySize' must be a whole number of MiB between 256 and 10240, got 128",
      "'redactFields' must hold field names, got [\"\"]",
    ]);
    const stack = testStack();
    const endpoint = ModelEndpoint.fromModelEndpointName(stack, 'Imported', 'legacy');
    expect(problemsOf(() => new InferenceGateway(stack, 'Gateway', { endpoint }))).toEqual([
      "'endpoint' must name its production variants: pass a ModelEndpoint, or import it with fromModelEndpointAttributes({ endpointName, variantNames })",
    ]);
  });

  test('rejects numbers, sizes and durations out of range however they are written, naming the value', () => {
    expect(problemsOf(() => fixture({
      throttle: { rateLimit: 10001, burstLimit: 0 }, maxPayloadSize: Size.bytes(1023), weightsCacheTtl: Duration.millis(1500), bodySampleRate: -0.1, memorySize: 10241,
    }))).toEqual([
      "'throttle.rateLimit' must be between 1 and 10000 requests per second, got 10001",
      "'throttle.burstLimit' must be a whole number between 1 and 5000, got 0",
      "'maxPayloadSize' must be between 1 KiB and 5120 KiB, got 1023 bytes",
      "'weightsCacheTtl' must be a whole number of seconds between 1 and 300, got '1 second 500 millis'",
      "'bodySampleRate' must be between 0 and 1, got -0.1",
      "'memorySize' must be a whole number of MiB between 256 and 10240, got 10241",
    ]);
  });

  test('rejects a JWT issuer that is not an https URL and an empty audience', () => {
    expect(problemsOf(() => GatewayAuth.jwt({ issuer: 'cognito', audience: [] }))).toEqual([
      "'issuer' must be an https:// URL, got 'cognito'",
      "'audience' must name at least one client id, got []",
    ]);
  });
});

describe('InferenceGateway imported from another stack', () => {
  const stack = testStack();
  const endpoint = ModelEndpoint.fromModelEndpointAttributes(stack, 'Endpoint', { endpointName: 'churn-ab', variantNames: ['baseline', 'candidate'] });
  const gateway = InferenceGateway.fromInferenceGatewayAttributes(stack, 'Gateway', { apiId: 'abc123', endpoint });

  test('knows its id, URL and endpoint, and its outcome types only when told', () => {
    expect(gateway.apiId).toBe('abc123');
    expect(gateway.endpoint).toBe(endpoint);
    expect(gateway.outcomeTypes).toBeUndefined();
    const told = InferenceGateway.fromInferenceGatewayAttributes(stack, 'Told', { apiId: 'abc123', endpoint, outcomeTypes: ['purchase'] });
    expect(told.outcomeTypes).toEqual(['purchase']);
    expect(problemsOf(() => InferenceGateway.fromInferenceGatewayAttributes(stack, 'Bad', { apiId: 'abc123', endpoint, outcomeTypes: ['a b'] }))).toEqual([
      "'outcomeTypes[0]' must be 1-64 letters, digits or _.:-, got 'a b'",
    ]);
    expect(stack.resolve(gateway.url)).toEqual({ 'Fn::Join': ['', ['https://abc123.execute-api.', { Ref: 'AWS::Region' }, '.', { Ref: 'AWS::URLSuffix' }, '/']] });
  });

  test('grants each permission on its own route, as a created gateway does: what IAM lets each caller call', () => {
    const at = { partition: 'aws', region: 'eu-west-1', account: '111111111111' };
    const callers = {
      invoke: new iam.Role(stack, 'Invoker', { assumedBy: new iam.AccountRootPrincipal() }),
      forceVariant: new iam.Role(stack, 'Forcer', { assumedBy: new iam.AccountRootPrincipal() }),
      reportOutcomes: new iam.Role(stack, 'Reporter', { assumedBy: new iam.AccountRootPrincipal() }),
    };
    gateway.grantInvoke(callers.invoke);
    gateway.grantForceVariant(callers.forceVariant);
    gateway.grantReportOutcomes(callers.reportOutcomes);
    const template = Template.fromStack(stack).toJSON() as TemplateJson;
    // The request ARNs API Gateway checks: the routes a created gateway has, a variant named 'POST' among them.
    const request = (path: string) => `arn:aws:execute-api:eu-west-1:111111111111:abc123/$default/POST${path}`;
    const requests = { invoke: request('/invocations'), forceVariant: request('/variants/candidate/invocations'), forcePost: request('/variants/POST/invocations'), reportOutcomes: request('/outcomes') };
    const allowed = Object.fromEntries(Object.entries(callers).map(([permission, role]) => {
      const policy = policyOf(role, template, at);
      return [permission, Object.entries(requests).filter(([, arn]) => policy.allows('execute-api:Invoke', arn)).map(([name]) => name)];
    }));
    // 3 grants × 4 requests: 4 allowed, 8 refused (a report or a forced variant by an invoker among them).
    expect(Object.values(allowed).flat()).toHaveLength(4);
    expect(allowed).toEqual({ invoke: ['invoke'], forceVariant: ['forceVariant', 'forcePost'], reportOutcomes: ['reportOutcomes'] });
  });

  test("measures the endpoint's variants like the gateway it imports", () => {
    expect(stack.resolve(gateway.findVariant('baseline').metricConversions('purchase').dimensions)).toEqual({
      service: 'modelship-gateway', EndpointName: 'churn-ab', VariantName: 'baseline', OutcomeType: 'purchase',
    });
    expect(problemsOf(() => gateway.findVariant('shadow'))).toEqual([
      "'variantName' must be one of the gateway's variants ('baseline', 'candidate'), got 'shadow'",
    ]);
  });

  test('needs an endpoint that names its variants', () => {
    const unnamed = ModelEndpoint.fromModelEndpointName(stack, 'Unnamed', 'legacy');
    expect(problemsOf(() => InferenceGateway.fromInferenceGatewayAttributes(stack, 'Legacy', { apiId: 'def456', endpoint: unnamed }))).toEqual([
      "'endpoint' must name its production variants: pass a ModelEndpoint, or import it with fromModelEndpointAttributes({ endpointName, variantNames })",
    ]);
  });
});

describe('InferenceGateway, endpoint and release controller imported from another account', () => {
  const app = testApp();
  const ops = new Stack(app, 'Ops', { env: { account: '111111111111', region: 'eu-west-1' } });
  const endpoint = ModelEndpoint.fromModelEndpointAttributes(ops, 'Endpoint', {
    endpointName: 'churn-ab', variantNames: ['baseline', 'candidate'], account: '222222222222', region: 'us-east-1',
  });
  const gateway = InferenceGateway.fromInferenceGatewayAttributes(ops, 'Gateway', { apiId: 'abc123', endpoint });
  const controller = ReleaseController.fromReleaseControllerAttributes(ops, 'Release', {
    endpoint, encryptionKey: kms.Key.fromKeyArn(ops, 'Key', 'arn:aws:kms:us-east-1:222222222222:key/1234abcd-12ab-34cd-56ef-1234567890ab'),
  });

  test('name ARNs and URLs in the account and region the resources are in, not the importing stack\'s', () => {
    expect(ops.resolve(endpoint.endpointArn)).toBe('arn:aws:sagemaker:us-east-1:222222222222:endpoint/churn-ab');
    expect(ops.resolve(gateway.url)).toEqual({ 'Fn::Join': ['', ['https://abc123.execute-api.us-east-1.', { Ref: 'AWS::URLSuffix' }, '/']] });
    expect(ops.resolve(controller.table.tableArn)).toBe('arn:aws:dynamodb:us-east-1:222222222222:table/modelship-rollouts-churn-ab');
  });

  test('grant a role of this account what the CLI and callers need there', () => {
    const role = new iam.Role(ops, 'ReleaseManager', { assumedBy: new iam.AccountRootPrincipal() });
    gateway.grantInvoke(role);
    controller.grantManualActions(role);
    const statements = ops.resolve((role.node.tryFindChild('DefaultPolicy')!.node.defaultChild as iam.CfnPolicy).policyDocument).Statement;
    // The gateway's invoke, and the controller's table, key, endpoint, endpoint configs, models, metrics (and endpoints) and alarms.
    expect(statements).toHaveLength(8);
    const resources = JSON.stringify(statements.map((s: { Resource: unknown }) => s.Resource));
    expect(resources).toContain(':execute-api:us-east-1:222222222222:abc123/$default/POST/invocations');
    expect(resources).not.toContain('/POST/outcomes');
    expect(resources).toContain(':dynamodb:us-east-1:222222222222:table/modelship-rollouts-churn-ab');
    expect(resources).toContain(':sagemaker:us-east-1:222222222222:endpoint/churn-ab');
    expect(resources).toContain(':sagemaker:us-east-1:222222222222:endpoint-config/*');
    expect(resources).toContain(':sagemaker:us-east-1:222222222222:model/*');
    expect(resources).toContain(':cloudwatch:us-east-1:222222222222:alarm:*');
    expect(resources).not.toContain('111111111111');
  });
});

// Keeps the settings type and the construct in step: a settings field the construct forgot fails to compile.
export type Checked = Required<GatewaySettings>;
