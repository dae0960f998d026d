import { Token } from 'aws-cdk-lib';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer, HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { formatValue, throwIfProblems } from '../runtime/errors';

/** A JWT issuer the gateway trusts. */
export interface JwtAuthOptions {
  /** The issuer URL, e.g. a Cognito user pool's `https://cognito-idp.<region>.amazonaws.com/<pool id>`. */
  readonly issuer: string;
  /** Accepted audiences (client ids). */
  readonly audience: string[];
}

/** How callers authenticate to the inference gateway. */
export abstract class GatewayAuth {
  /** AWS IAM (SigV4-signed requests); give callers access with `InferenceGateway.grantInvoke`. */
  public static iam(): GatewayAuth {
    return new (class extends GatewayAuth {
      public readonly kind = 'IAM';
      public authorizer(): apigwv2.IHttpRouteAuthorizer {
        return new HttpIamAuthorizer();
      }
    })();
  }

  /** Bearer JWTs from an OpenID Connect issuer, such as a Cognito user pool. */
  public static jwt(options: JwtAuthOptions): GatewayAuth {
    const problems: string[] = [];
    if (!Token.isUnresolved(options.issuer) && !/^https:\/\/[^\s/]+/.test(options.issuer)) {
      problems.push(`'issuer' must be an https:// URL, got ${formatValue(options.issuer)}`);
    }
    if (options.audience.length === 0) {
      problems.push("'audience' must name at least one client id, got []");
    }
    throwIfProblems('GatewayAuth.jwt', problems);
    return new (class extends GatewayAuth {
      public readonly kind = 'JWT';
      public authorizer(): apigwv2.IHttpRouteAuthorizer {
        return new HttpJwtAuthorizer('Jwt', options.issuer, { jwtAudience: options.audience });
      }
    })();
  }

  /** `IAM` or `JWT`. */
  public abstract readonly kind: 'IAM' | 'JWT';

  /** The authorizer for the gateway's routes. */
  public abstract authorizer(): apigwv2.IHttpRouteAuthorizer;
}
