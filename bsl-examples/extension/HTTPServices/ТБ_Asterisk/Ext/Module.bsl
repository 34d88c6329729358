// HTTP-сервис ТБ_Asterisk: push-события Asterisk/FreePBX в стиле Binotel (Clinica Web) на
// https://<сервер>/<публикация>/hs/tb-asterisk/push и вебхук самого Binotel (API 4.0) на
// https://<сервер>/<публикация>/hs/tb-asterisk/binotel, поиск звонящего для Asterisk на
// https://<сервер>/<публикация>/hs/tb-asterisk/lookup?number=<номер>. Обработка - в ТБ_ТелефонияHTTPСервисы.

#Область ОбработчикиСобытий

Функция PushPOST(Запрос)

	Возврат ТБ_ТелефонияHTTPСервисы.ОбработатьPushAsterisk(Запрос);

КонецФункции

Функция BinotelPOST(Запрос)

	Возврат ТБ_ТелефонияHTTPСервисы.ОбработатьВебхукBinotel(Запрос);

КонецФункции

Функция ПоискGET(Запрос)

	Возврат ТБ_ТелефонияHTTPСервисы.ОтветитьНаПоискAsterisk(Запрос);

КонецФункции

#КонецОбласти
