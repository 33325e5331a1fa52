// Stacktape and Serverless Framework YAML → ImportPlan, for `mainspring import`.

export { looksLikeServerless, readServerless } from './serverless.ts';
export { looksLikeStacktape, readStacktape } from './stacktape.ts';
