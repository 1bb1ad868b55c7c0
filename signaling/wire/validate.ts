// zValidator with our error shape: a request that fails validation gets a 400 naming the field.
// The middleware carries its schema, so the OpenAPI document shows what is really validated.
import { zValidator } from '@hono/zod-validator';
import type { ValidationTargets } from 'hono';
import type { z } from 'zod';
import { badRequest } from '../errors.ts';
import { REQUEST_SCHEMA, type RequestTarget } from './describe.ts';
import { describeIssues } from './issues.ts';

export const validate = <T extends z.ZodType, Target extends keyof ValidationTargets & RequestTarget>(target: Target, schema: T) =>
  Object.assign(
    zValidator(target, schema, (result) => {
      if (!result.success) {
        throw badRequest(`invalid ${target}: ${describeIssues(result.error)}`, 'invalid_request');
      }
    }),
    { [REQUEST_SCHEMA]: { target, schema } },
  );
