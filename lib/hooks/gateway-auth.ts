import { Token } from 'aws-cdk-lib';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer, HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { formatValue, throwIfProblems } from '../runtime/errors';
import type { GatewayPermission } from './runtime/gateway-request';

/** The OAuth scope a JWT needs for each of the gateway's routes: three distinct scopes, so each permission is granted on its own. */
export interface JwtScopes {
  /**
   * The scope a token needs for `POST /invocations` (predictions, the gateway picks the variant).
   * @default 'modelship/invoke'
   */
  readonly invoke?: string;
  /**
   * The scope a token needs for `POST /variants/{variant}/invocations` (predictions from a variant the caller forces).
   * @default 'modelship/force-variant'
   */
  readonly forceVariant?: string;
  /**
   * The scope a token needs for `POST /outcomes` (reporting outcomes: give it to a trusted outcome source).
   * @default 'modelship/outcomes'
   */
  readonly reportOutcomes?: string;
}

/** A JWT issuer the gateway trusts. */
export interface JwtAuthOptions {
  /** The issuer URL, e.g. a Cognito user pool's `https://cognito-idp.<region>.amazonaws.com/<pool id>`. */
  readonly issuer: string;
  /** Accepted audiences (client ids). */
  readonly audience: string[];
  /**
   * The scope a token's `scope` (or `scp`) claim must hold for each route.
   * @default - `modelship/invoke`, `modelship/force-variant` and `modelship/outcomes`
   */
  readonly scopes?: JwtScopes;
}

/** The scopes of `GatewayAuth.jwt` unless told otherwise. */
const DEFAULT_SCOPES: Readonly<Record<GatewayPermission, string>> = {
  invoke: 'modelship/invoke',
  forceVariant: 'modelship/force-variant',
  reportOutcomes: 'modelship/outcomes',
};

/** An OAuth scope token (RFC 6749 3.3: printable ASCII but space, `"` and `\`), at most 128 characters. */
const SCOPE = /^[\x21\x23-\x5b\x5d-\x7e]{1,128}$/;

/** How callers authenticate to the inference gateway. */
export abstract class GatewayAuth {
  /**
   * AWS IAM (SigV4-signed requests); give callers access with `InferenceGateway.grantInvoke`,
   * `grantForceVariant` and `grantReportOutcomes`, one route each.
   */
  public static iam(): GatewayAuth {
    return new (class extends GatewayAuth {
      public readonly kind = 'IAM';
      public authorizer(): apigwv2.IHttpRouteAuthorizer {
        return new HttpIamAuthorizer();
      }
      public scopesFor(): string[] | undefined {
        return undefined;
      }
    })();
  }

  /**
   * Bearer JWTs from an OpenID Connect issuer, such as a Cognito user pool; each route needs its own scope.
   * @throws ModelshipError when the issuer is not an https URL, no audience is named, or a scope is malformed or repeated
   */
  public static jwt(options: JwtAuthOptions): GatewayAuth {
    const scopes: Record<GatewayPermission, string> = { ...DEFAULT_SCOPES, ...definedScopes(options.scopes) };
    const problems: string[] = [];
    if (!Token.isUnresolved(options.issuer) && !/^https:\/\/[^\s/]+/.test(options.issuer)) {
      problems.push(`'issuer' must be an https:// URL, got ${formatValue(options.issuer)}`);
    }
    if (options.audience.length === 0) {
      problems.push("'audience' must name at least one client id, got []");
    }
    const permissions = Object.keys(scopes) as GatewayPermission[];
    for (const permission of permissions) {
      const scope = scopes[permission];
      if (Token.isUnresolved(scope)) {
        continue;
      }
      if (!SCOPE.test(scope)) {
        problems.push(`'scopes.${permission}' must be 1-128 printable ASCII characters without spaces, '"' or '\\', got ${formatValue(scope)}`);
      }
      const first = permissions.find((other) => scopes[other] === scope);
      if (first !== permission) {
        problems.push(`'scopes.${permission}' must differ from 'scopes.${first}': each route is a permission of its own, got ${formatValue(scope)} for both`);
      }
    }
    throwIfProblems('GatewayAuth.jwt', problems);
    return new (class extends GatewayAuth {
      public readonly kind = 'JWT';
      public authorizer(): apigwv2.IHttpRouteAuthorizer {
        return new HttpJwtAuthorizer('Jwt', options.issuer, { jwtAudience: options.audience });
      }
      public scopesFor(permission: GatewayPermission): string[] {
        return [scopes[permission]];
      }
    })();
  }

  /** `IAM` or `JWT`. */
  public abstract readonly kind: 'IAM' | 'JWT';

  /** The authorizer for the gateway's routes. */
  public abstract authorizer(): apigwv2.IHttpRouteAuthorizer;

  /** The scopes a token needs for the route of a permission (JWT), or none (IAM: the grants decide). */
  public abstract scopesFor(permission: GatewayPermission): string[] | undefined;
}

/** The scopes given, without the members left undefined (so the defaults stay). */
function definedScopes(scopes: JwtScopes | undefined): Partial<Record<GatewayPermission, string>> {
  return Object.fromEntries(Object.entries(scopes ?? {}).filter(([, scope]) => scope !== undefined));
}
