import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadServiceModel } from '../../../src/http/aws/model/load.js';
import { escapeXml, queryErrorInfo, renderQueryError, renderQueryResponse } from '../../../src/http/aws/model/xml.js';
import { child, parseXml } from './xml-reader.js';

const iam = loadServiceModel('iam');
const sts = loadServiceModel('sts');
const IAM_NS = 'https://iam.amazonaws.com/doc/2010-05-08/';

describe('renderQueryResponse', () => {
  const user = {
    Path: '/',
    UserName: 'bob & <alice>',
    UserId: 'AIDAEXAMPLE',
    Arn: 'arn:aws:iam::123456789012:user/bob',
    CreateDate: new Date('2026-01-02T03:04:05Z'),
    Tags: [{ Key: 'team', Value: 'a"b\'c' }, { Key: 'env', Value: 'prod]]>' }],
    NotInTheModel: 'dropped',
  };

  it('a CreateUser result is well-formed XML with the model namespace, result wrapper and request id', () => {
    const doc = parseXml(renderQueryResponse(iam, 'CreateUser', { User: user }, 'req-123'));
    assert.equal(doc.name, 'CreateUserResponse');
    assert.deepEqual(doc.attrs, { xmlns: IAM_NS });
    assert.deepEqual(doc.children.map((c) => c.name), ['CreateUserResult', 'ResponseMetadata']);
    const u = child(child(doc, 'CreateUserResult'), 'User');
    assert.equal(child(u, 'UserName').text, 'bob & <alice>');
    assert.equal(child(u, 'CreateDate').text, '2026-01-02T03:04:05.000Z');
    assert.deepEqual(child(u, 'Tags').children.map((m) => [m.name, child(m, 'Key').text, child(m, 'Value').text]), [
      ['member', 'team', 'a"b\'c'],
      ['member', 'env', 'prod]]>'],
    ]);
    assert.equal(child(child(doc, 'ResponseMetadata'), 'RequestId').text, 'req-123');
  });

  it('members come out in model order and unknown output keys are dropped', () => {
    const doc = parseXml(renderQueryResponse(iam, 'CreateUser', { User: { ...user, Tags: undefined } }, 'r'));
    assert.deepEqual(child(child(doc, 'CreateUserResult'), 'User').children.map((c) => c.name), ['Path', 'UserName', 'UserId', 'Arn', 'CreateDate']);
  });

  it('a list result renders each item as <member>, numbers and booleans as text', () => {
    const xml = renderQueryResponse(iam, 'ListUsers', { Users: [user, { ...user, UserName: 'carol' }], IsTruncated: false }, 'r');
    const result = child(parseXml(xml), 'ListUsersResult');
    assert.deepEqual(child(result, 'Users').children.map((m) => child(m, 'UserName').text), ['bob & <alice>', 'carol']);
    assert.equal(child(result, 'IsTruncated').text, 'false');
  });

  it('an operation without output renders only ResponseMetadata', () => {
    assert.equal(
      renderQueryResponse(iam, 'PutUserPolicy', {}, 'r-1'),
      `<PutUserPolicyResponse xmlns="${IAM_NS}"><ResponseMetadata><RequestId>r-1</RequestId></ResponseMetadata></PutUserPolicyResponse>`,
    );
  });

  it('STS responses use the STS namespace and epoch-second timestamps render as ISO 8601', () => {
    const xml = renderQueryResponse(sts, 'GetSessionToken', {
      Credentials: { AccessKeyId: 'ASIA', SecretAccessKey: 's', SessionToken: 't', Expiration: 1767225600 },
    }, 'r');
    const doc = parseXml(xml);
    assert.equal(doc.attrs.xmlns, 'https://sts.amazonaws.com/doc/2011-06-15/');
    assert.equal(child(child(child(doc, 'GetSessionTokenResult'), 'Credentials'), 'Expiration').text, '2026-01-01T00:00:00.000Z');
  });

  it('output that does not fit the model throws instead of rendering garbage', () => {
    assert.throws(() => renderQueryResponse(iam, 'CreateUser', { User: { ...user, CreateDate: 'soon' } }, 'r'), TypeError);
    assert.throws(() => renderQueryResponse(iam, 'ListUsers', { Users: 'bob' }, 'r'), TypeError);
  });
});

describe('renderQueryError', () => {
  it('renders Type, Code, Message and RequestId, escaped, as well-formed XML', () => {
    const xml = renderQueryError('Sender', 'NoSuchEntity', 'The user with name <bob> & co cannot be found.', 'req-9');
    const doc = parseXml(xml);
    assert.equal(doc.name, 'ErrorResponse');
    assert.equal(doc.attrs.xmlns, IAM_NS);
    const e = child(doc, 'Error');
    assert.deepEqual(e.children.map((c) => [c.name, c.text]), [
      ['Type', 'Sender'],
      ['Code', 'NoSuchEntity'],
      ['Message', 'The user with name <bob> & co cannot be found.'],
    ]);
    assert.equal(child(doc, 'RequestId').text, 'req-9');
  });

  it('takes the STS namespace when given', () => {
    const doc = parseXml(renderQueryError('Receiver', 'InternalFailure', 'x', 'r', sts.metadata.xmlNamespace));
    assert.equal(doc.attrs.xmlns, 'https://sts.amazonaws.com/doc/2011-06-15/');
  });

  it('maps modeled IAM exceptions to their wire code, status and fault side', () => {
    assert.deepEqual(queryErrorInfo(iam, 'NoSuchEntityException'), { code: 'NoSuchEntity', status: 404, type: 'Sender' });
    assert.deepEqual(queryErrorInfo(iam, 'EntityAlreadyExistsException'), { code: 'EntityAlreadyExists', status: 409, type: 'Sender' });
    assert.deepEqual(queryErrorInfo(iam, 'ServiceFailureException'), { code: 'ServiceFailure', status: 500, type: 'Receiver' });
  });
});

describe('escapeXml', () => {
  it('escapes markup and replaces characters XML 1.0 cannot carry, so any string round-trips well-formed', () => {
    assert.equal(escapeXml(`<a href="x">&'</a>`), '&lt;a href=&quot;x&quot;&gt;&amp;&apos;&lt;/a&gt;');
    const nasty = 'nul\u0000 bell\u0007 cr\r lone\uD800 pair\uD83D\uDE00 ok';
    const doc = parseXml(renderQueryError('Sender', 'X', nasty, 'r'));
    assert.equal(child(child(doc, 'Error'), 'Message').text, 'nul\uFFFD bell\uFFFD cr\r lone\uFFFD pair\uD83D\uDE00 ok');
  });

  it('the test reader really rejects malformed documents', () => {
    for (const bad of ['<a><b></a></b>', '<a>x & y</a>', '<a>1 < 2</a>', '<a>&nbsp;</a>', '<a></a><b></b>', '<a>']) {
      assert.throws(() => parseXml(bad), Error, bad);
    }
  });
});
