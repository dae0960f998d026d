import fc from 'fast-check';
import {
  ECHO_LIMIT, formatEchoed, GATEWAY_ROUTES, GatewayRequest, jsonDepth, MAX_JSON_DEPTH, OutcomeRules, parseInvocation, parseOutcome, TARGET_VARIANT_HEADER,
} from '../../../lib/hooks/runtime/gateway-request';

const json = (body: unknown, contentType = 'application/json'): GatewayRequest =>
  ({ headers: { 'content-type': contentType }, body: typeof body === 'string' ? body : JSON.stringify(body), isBase64Encoded: false });

describe('POST /invocations parsing', () => {
  test('accepts any JSON input with an optional unit id, and the variant the forcing route names', () => {
    expect(parseInvocation(json({ input: [1, 2], unitId: 'u-1' }), 1000)).toEqual({ ok: true, value: { input: [1, 2], unitId: 'u-1' } });
    expect(parseInvocation({ ...json({ input: [1, 2], unitId: 'u-1' }), pathParameters: { variant: 'candidate' } }, 1000))
      .toEqual({ ok: true, value: { input: [1, 2], unitId: 'u-1', variant: 'candidate' } });
    expect(parseInvocation(json({ input: null }), 1000)).toEqual({ ok: true, value: { input: null } });
    expect(parseInvocation(json({ input: 'x' }, 'application/json; charset=utf-8'), 1000).ok).toBe(true);
  });

  test('decodes a base64 body', () => {
    const request = { headers: { 'content-type': 'application/json' }, body: Buffer.from('{"input":3}').toString('base64'), isBase64Encoded: true };
    expect(parseInvocation(request, 1000)).toEqual({ ok: true, value: { input: 3 } });
  });

  test.each([
    [json({ input: 1 }, 'text/csv'), 415, "'Content-Type' must be application/json, got 'text/csv'"],
    [{ headers: {}, body: '{}', isBase64Encoded: false }, 415, "'Content-Type' must be application/json, got nothing"],
    [json('{"input": [1,'), 400, 'The body must be JSON: '],
    [json([1]), 400, 'The body must be a JSON object, got [1]'],
    [json({}), 400, "'input' is required (any JSON value), got nothing"],
    [json({ input: 1, unitId: 42 }), 400, "'unitId' must be a string of 1-256 characters, got 42"],
    [json({ input: 1, unitId: 'x'.repeat(257) }), 400, "'unitId' must be a string of 1-256 characters, got 'xxx"],
    [json({ input: 1, unitID: 'u' }), 400, "Unknown field(s) 'unitID'"],
  ])('refuses a bad request: %#', (request, status, message) => {
    const result = parseInvocation(request as GatewayRequest, 1000);
    expect(result).toMatchObject({ ok: false, status });
    expect(result.ok ? '' : result.message).toContain(message);
  });

  test('refuses a variant forced anywhere but the forcing route\'s path: 403 on the plain route, 400 on the forcing route', () => {
    const plain = [
      [json({ input: 1, variant: 'candidate' }), "'variant' in the body"],
      [json({ input: 1, variant: null }), "'variant' in the body"],
      [{ ...json({ input: 1 }), headers: { 'content-type': 'application/json', [TARGET_VARIANT_HEADER]: 'candidate' } }, `the '${TARGET_VARIANT_HEADER}' header`],
    ] as const;
    for (const [request, where] of plain) {
      expect(parseInvocation(request, 1000)).toEqual({
        ok: false, status: 403, code: 'ForceNotAllowed',
        message: `Forcing a variant needs POST ${GATEWAY_ROUTES.forceVariant} and its permission; ${where} is refused on POST ${GATEWAY_ROUTES.invoke}`,
      });
      expect(parseInvocation({ ...request, pathParameters: { variant: 'candidate' } }, 1000)).toEqual({
        ok: false, status: 400, code: 'InvalidRequest', message: `The path names the variant: ${where} is refused on POST ${GATEWAY_ROUTES.forceVariant}`,
      });
    }
  });

  test('refuses a body over the limit with 413, naming the limit and the size', () => {
    expect(parseInvocation(json({ input: 'x'.repeat(100) }), 50))
      .toEqual({ ok: false, status: 413, code: 'PayloadTooLarge', message: 'The body must be at most 50 bytes, got 112' });
  });
});

describe('hostile bodies', () => {
  const nested = (depth: number) => `{"input":${'['.repeat(depth - 1)}${']'.repeat(depth - 1)}}`;

  test(`refuses JSON nested deeper than ${MAX_JSON_DEPTH} levels before parsing it, and accepts ${MAX_JSON_DEPTH}`, () => {
    expect(parseInvocation(json(nested(MAX_JSON_DEPTH)), 1_000_000).ok).toBe(true);
    for (const depth of [MAX_JSON_DEPTH + 1, 6000, 500_000]) {
      expect(parseInvocation(json(nested(depth)), 2_000_000)).toEqual({
        ok: false, status: 400, code: 'InvalidRequest', message: `The body must nest arrays and objects at most ${MAX_JSON_DEPTH} levels deep, got more`,
      });
    }
    expect(parseOutcome(json(`{"inferenceId":${'['.repeat(40)}${']'.repeat(40)}}`), 10_000, ANY)).toMatchObject({ ok: false, status: 400 });
  });

  test('counts the depth of any JSON as JSON.parse builds it: brackets in strings and escapes do not count', () => {
    const depthOf = (value: unknown): number => (Array.isArray(value) ? 1 + Math.max(0, ...value.map(depthOf))
      : value !== null && typeof value === 'object' ? 1 + Math.max(0, ...Object.values(value).map(depthOf)) : 0);
    fc.assert(fc.property(fc.jsonValue({ maxDepth: 8 }), (value) => {
      expect(jsonDepth(JSON.stringify(value))).toBe(depthOf(value));
    }), { numRuns: 500 });
    expect(jsonDepth('{"a":"[[[{{\\"","b":"\\"]]"}')).toBe(1);
  });

  test(`echoes at most ${ECHO_LIMIT} characters of a bad value, however long, and says how much it left out`, () => {
    const huge = 'x'.repeat(1_000_000);
    const refused = parseInvocation(json({ input: 1, unitId: huge }), 2_000_000);
    expect(refused.ok).toBe(false);
    const message = (refused as { message: string }).message;
    expect(message.length).toBeLessThan(200);
    expect(message).toBe(`'unitId' must be a string of 1-256 characters, got '${'x'.repeat(ECHO_LIMIT - 1)}… (${1_000_002 - ECHO_LIMIT} more characters)`);
    expect((parseInvocation(json({ input: 1, [huge]: 1 }), 3_000_000) as { message: string }).message.length).toBeLessThan(200);
    expect((parseInvocation(json(`{"input": ${huge}`), 2_000_000) as { message: string }).message.length).toBeLessThan(200);
    expect(formatEchoed('short')).toBe("'short'");
  });
});

/** The types these tests report, a generous bound: the form alone decides. */
const ANY: OutcomeRules = { outcomeTypes: ['purchase', 'click', 'revenue'], maxValue: 1e9 };

describe('POST /outcomes parsing', () => {
  test('accepts a conversion, a value, or both', () => {
    expect(parseOutcome(json({ inferenceId: 'id', type: 'purchase', converted: true, value: 12.5 }), 1000, ANY))
      .toEqual({ ok: true, value: { inferenceId: 'id', type: 'purchase', converted: true, value: 12.5 } });
    expect(parseOutcome(json({ inferenceId: 'id', type: 'click', converted: false }), 1000, ANY).ok).toBe(true);
    expect(parseOutcome(json({ inferenceId: 'id', type: 'revenue', value: 0 }), 1000, ANY).ok).toBe(true);
  });

  test.each([
    [{ type: 'purchase', converted: true }, "'inferenceId' is required: the id POST /invocations returned, got nothing"],
    [{ inferenceId: 'id', type: 'pur chase', converted: true }, "'type' must be 1-64 letters, digits or _.:-, got 'pur chase'"],
    [{ inferenceId: 'id', type: 'purchase' }, "The body needs 'converted', 'value' or both"],
    [{ inferenceId: 'id', type: 'purchase', converted: 'yes' }, "'converted' must be true or false, got 'yes'"],
    [{ inferenceId: 'id', type: 'purchase', value: '12' }, "'value' must be a finite number, got '12'"],
  ])('refuses a bad outcome: %#', (body, message) => {
    expect(parseOutcome(json(body), 1000, ANY)).toEqual({ ok: false, status: 400, code: 'InvalidRequest', message });
  });

  test('refuses a type the gateway does not accept, and a value beyond its bound, quoting either to 64 characters', () => {
    const rules: OutcomeRules = { outcomeTypes: ['purchase', 'revenue'], maxValue: 1000 };
    expect(parseOutcome(json({ inferenceId: 'id', type: 'purchase', converted: true }), 1000, rules).ok).toBe(true);
    expect(parseOutcome(json({ inferenceId: 'id', type: 'revenue', value: -1000 }), 1000, rules).ok).toBe(true);
    expect(parseOutcome(json({ inferenceId: 'id', type: 'signup', converted: true }), 1000, rules)).toEqual({
      ok: false, status: 400, code: 'UnknownOutcomeType', message: "'type' must be one of 'purchase', 'revenue', got 'signup'",
    });
    expect(parseOutcome(json({ inferenceId: 'id', type: 'x'.repeat(64), converted: true }), 1000, rules)).toMatchObject({
      code: 'UnknownOutcomeType', message: `'type' must be one of 'purchase', 'revenue', got '${'x'.repeat(63)}… (2 more characters)`,
    });
    for (const value of [1000.5, -1e308, 1e308]) {
      expect(parseOutcome(json({ inferenceId: 'id', type: 'revenue', value }), 1000, rules)).toEqual({
        ok: false, status: 400, code: 'InvalidRequest', message: `'value' must be between -1000 and 1000, got ${formatEchoed(value)}`,
      });
    }
  });
});
