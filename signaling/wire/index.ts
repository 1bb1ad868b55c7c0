// The wire contract: request validation, answer schemas, route documentation, the error table and
// the OpenAPI document built from them.
export { ERROR_CODES, ErrorBody, statusOf, type ErrorCode } from './errors.ts';
export { describe, type Answer, type Auth, type RouteDoc } from './describe.ts';
export { validate } from './validate.ts';
export { describeIssues } from './issues.ts';
export { reply, serialized, checkAnswer, answerProblem, AnswerContractError, type Same } from './answer.ts';
export { openApiDocument, routeTable, openApiPath, errorsOf, type OpenApiInfo, type RouteEntry, type ServedRoute } from './openapi.ts';
