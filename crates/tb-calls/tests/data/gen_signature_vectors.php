<?php
// Generates signature_vectors.json: what PHP (json_decode/parse_str, ksort, json_encode, md5) makes of each input.
// Run: php gen_signature_vectors.php > signature_vectors.json   (PHP 8.x, default ini: serialize_precision = -1).
// The tests read the committed JSON, so they do not need PHP.

function signature_payload(array $params, bool $with_key): string {
    unset($params['signature']);
    if (!$with_key) unset($params['key']);
    ksort($params);
    return json_encode($params);
}

$secret = 'test-secret-Секрет';
$json_inputs = [
    'seed call-details request' => '{"generalCallID":[744924436],"key":"701151-a3a9ca8","signature":"7eca1077cec5bb8522d9ff925a68911f"}',
    'call-details ids as strings' => '{"generalCallID":["744924436"],"key":"701151-a3a9ca8"}',
    'seed call-record request' => '{"callID":"744924436","key":"701151-a3a9ca8","signature":"e7a253e3fbebe31598b95c4d20d0448c"}',
    'seed ext-to-phone request' => '{"key":"701151-a3a9ca8","signature":"1732291bc66ac4297eb7e87ccf5f2549","ext_number":"902","phone_number":"0639798793"}',
    'seed call-details response' => file_get_contents(__DIR__ . '/binotel/call_details_response.seed.json'),
    'seed call-record response' => file_get_contents(__DIR__ . '/binotel/call_record_response.seed.json'),
    'empty object and list keys' => '{"b":{},"a":[],"c":{"0":"x","1":"y"},"d":{"1":"x"},"e":[{}]}',
    'numbers' => '{"int":42,"neg":-7,"zero":-0,"float":1.50,"exp":1e3,"small":0.00001,"big":12345678901234567890,"frac":0.1,"max":9223372036854775807,"str":"42"}',
    'unicode and escapes' => '{"name":" Врач Сторожук","emoji":"😀","ctl":"a\u0001b\tc\nd","quote":"\"\\\\","url":"https://cdn.example.com/74/744924436.mp3?Expires=1&Signature=2R%3D","lt":"<&>\'","del":"\u007f","nbsp":"\u00a0","bom":"\ufeff"}',
    'key order' => '{"signature":"x","b":1,"B":2,"10":3,"9":4,"a":5,"1e1":6,"_":7,"Яблоко":8,"apple":9,"key":"k","":10,"-1":11,"01":12}',
    'duplicate keys' => '{"a":1,"b":2,"a":3}',
    'nested keys are not sorted' => '{"z":{"b":1,"a":2},"y":[3,1,2]}',
    'booleans and null' => '{"t":true,"f":false,"n":null}',
];
$form_inputs = [
    'seed receivedTheCall form' => 'DidNumber=0443334000&ExternalNumber=0670219424&InternalNumber=801&GeneralCallID=2744830&CallType=0&CompanyID=3041&RequestType=receivedTheCall',
    'nested form' => 'requestType=apiCallCompleted&callDetails%5BgeneralCallID%5D=744924436&callDetails[customerData][name]=%D0%92%D1%80%D0%B0%D1%87&callDetails[list][]=a&callDetails[list][]=b&a.b=1&x=1&x=2&key=k&signature=s',
    'plus and percent' => 'text=a+b%2Bc%26d&url=https%3A%2F%2Fx.y%2Fz&empty=&novalue',
];
$out = [];
foreach ($json_inputs as $name => $input) {
    $params = json_decode($input, true);
    if (!is_array($params)) { fwrite(STDERR, "bad input $name\n"); exit(1); }
    $out[] = ['name' => $name, 'format' => 'json', 'secret' => $secret, 'input' => $input,
        'payload' => signature_payload($params, false), 'signature' => md5($secret . signature_payload($params, false)),
        'payload_with_key' => signature_payload($params, true), 'signature_with_key' => md5($secret . signature_payload($params, true))];
}
foreach ($form_inputs as $name => $input) {
    parse_str($input, $params);
    $out[] = ['name' => $name, 'format' => 'form', 'secret' => $secret, 'input' => $input,
        'payload' => signature_payload($params, false), 'signature' => md5($secret . signature_payload($params, false)),
        'payload_with_key' => signature_payload($params, true), 'signature_with_key' => md5($secret . signature_payload($params, true))];
}
echo json_encode(['php_version' => PHP_VERSION, 'vectors' => $out], JSON_PRETTY_PRINT | JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES), "\n";
