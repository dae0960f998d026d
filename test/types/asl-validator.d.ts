declare module 'asl-validator' {
  interface AslValidationError { readonly 'Error code': string; readonly Message: string }
  function validator(definition: unknown): { isValid: boolean; errors: AslValidationError[] };
  export = validator;
}
