// The Node.js comparator of `make bench`: the same GetItem handler written the way most teams would, with the AWS
// SDK v3 (client-dynamodb + lib-dynamodb) under a minimal Lambda Runtime API loop. Clients are built once, at init.
'use strict';
const http = require('http');
const { DynamoDBClient } = require('@aws-sdk/client-dynamodb');
const { DynamoDBDocumentClient, GetCommand } = require('@aws-sdk/lib-dynamodb');

const documents = DynamoDBDocumentClient.from(new DynamoDBClient({}));
const [host, port] = process.env.AWS_LAMBDA_RUNTIME_API.split(':');

function call(method, path, body) {
  return new Promise((resolve, reject) => {
    const request = http.request({ host, port, method, path }, (response) => {
      const chunks = [];
      response.on('data', (chunk) => chunks.push(chunk));
      response.on('end', () => resolve({ headers: response.headers, body: Buffer.concat(chunks).toString() }));
    });
    request.on('error', reject);
    if (body) request.write(body);
    request.end();
  });
}

async function handler(event) {
  const [, , pk, sk] = event.rawPath.split('/').map(decodeURIComponent);
  const found = await documents.send(new GetCommand({ TableName: process.env.CARTWHEEL_TABLE, Key: { PK: pk, SK: sk } }));
  return { statusCode: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ found: !!found.Item }) };
}

(async () => {
  for (;;) {
    const next = await call('GET', '/2018-06-01/runtime/invocation/next');
    const id = next.headers['lambda-runtime-aws-request-id'];
    try {
      const result = await handler(JSON.parse(next.body));
      await call('POST', `/2018-06-01/runtime/invocation/${id}/response`, JSON.stringify(result));
    } catch (error) {
      await call('POST', `/2018-06-01/runtime/invocation/${id}/error`, JSON.stringify({ errorMessage: String(error) }));
    }
  }
})();
