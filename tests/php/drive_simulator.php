<?php
// Drives 1CRM's own PHP API client (onecrm-api-client/, MIT) against a server and prints what each call
// returned, as one JSON object. Used by tests/simulator/test_sim_php_client.py: if the simulator answers
// every call the way this client expects, the simulator speaks 1CRM's API as 1CRM's own client knows it.
//
// Input (JSON on stdin): api_url, username, password, and client_id/client_secret for OAuth2 (else Basic).

declare(strict_types=1);

require '/usr/share/php/GuzzleHttp/autoload.php';  // Debian's php-guzzlehttp-guzzle
spl_autoload_register(function (string $class): void {
    $prefix = 'OneCRM\\APIClient\\';
    if (str_starts_with($class, $prefix)) {
        require __DIR__ . '/onecrm-api-client/src/' . str_replace('\\', '/', substr($class, strlen($prefix))) . '.php';
    }
});

use OneCRM\APIClient\Authentication\Basic;
use OneCRM\APIClient\Authentication\OAuth;
use OneCRM\APIClient\AuthorizationFlow;
use OneCRM\APIClient\Client;
use OneCRM\APIClient\Error;

$in = json_decode(stream_get_contents(STDIN), true, 16, JSON_THROW_ON_ERROR);
$out = [];

/** Runs one call; records its value, or the API error the client raised. */
function call(array &$out, string $name, callable $fn): mixed
{
    try {
        $value = $fn();
        $out[$name] = ['ok' => true, 'value' => $value];
        return $value;
    } catch (Error $e) {
        $out[$name] = ['ok' => false, 'code' => $e->getCode(), 'message' => $e->getMessage(), 'type' => $e->getType()];
    } catch (Throwable $e) {
        $out[$name] = ['ok' => false, 'code' => -1, 'message' => get_class($e) . ': ' . $e->getMessage()];
    }
    return null;
}

$flow = null;
$token = null;
if (!empty($in['client_id'])) {
    $flow = new AuthorizationFlow($in['api_url'], [
        'client_id' => $in['client_id'], 'client_secret' => $in['client_secret'],
        'username' => $in['username'], 'password' => $in['password'], 'scope' => 'read write profile',
    ]);
    $token = call($out, 'token', fn () => $flow->init('password'));
    if (is_array($token)) {
        $out['token']['value'] = array_keys($token);  // never the token itself
    }
    $client = new Client($in['api_url'], new OAuth($token ?? ['access_token' => '']));
} else {
    $client = new Client($in['api_url'], new Basic($in['username'], $in['password']));
}

call($out, 'me', fn () => $client->me());
call($out, 'version', fn () => $client->get('/version'));
$contacts = $client->model('Contact');
call($out, 'metadata', fn () => array_keys($contacts->metadata()));
call($out, 'list', function () use ($contacts) {
    $result = $contacts->getList(['fields' => ['id', 'first_name', 'last_name', 'email1'], 'order' => 'last_name'], 0, 5);
    return ['total' => $result->totalResults(), 'records' => $result->getRecords()];
});
call($out, 'every_contact', function () use ($contacts) {
    $result = $contacts->getList(['fields' => ['id']], 0, 7);  // small pages: the generator pages on
    $ids = [];
    foreach ($result->generator() as $record) {
        $ids[] = $record['id'];
    }
    return ['total' => $result->totalResults(), 'seen' => count($ids), 'distinct' => count(array_unique($ids))];
});

$id = call($out, 'create', fn () => $contacts->create(['first_name' => 'Php', 'last_name' => 'php-client-check']));
if (is_string($id)) {
    call($out, 'read', fn () => $contacts->get($id, ['first_name', 'last_name']));
    call($out, 'update', fn () => $contacts->update($id, ['first_name' => 'Changed']));
    call($out, 'read_again', fn () => $contacts->get($id, ['first_name']));
    call($out, 'audit', fn () => $contacts->getAuditLogs($id)->getRecords());
    call($out, 'delete', fn () => $contacts->delete($id));
    call($out, 'read_deleted', fn () => $contacts->get($id, ['id']));
}

$roles = call($out, 'roles', fn () => $client->model('ACLRole')->getList(['fields' => ['id', 'name']], 0, 50)->getRecords());
if (is_array($roles) && $roles) {
    call($out, 'role_users', fn () => $client->model('ACLRole')
        ->getRelated($roles[0]['id'], 'users', ['fields' => ['id', 'user_name']], 0, 50)->getRecords());
}
call($out, 'unknown_model', fn () => $client->model('Acount')->getList());
if ($flow !== null && is_array($token)) {
    call($out, 'refresh', fn () => array_keys($flow->refreshToken($token['refresh_token'])));
}

echo json_encode($out, JSON_PRETTY_PRINT | JSON_UNESCAPED_SLASHES), "\n";
