// HTTP-сервис ТБ_Asterisk: push-события Asterisk/FreePBX в стиле Binotel (Clinica Web) на
// https://<сервер>/<публикация>/hs/tb-asterisk/push. Обработка - в ТБ_ТелефонияHTTPСервисы.

#Область ОбработчикиСобытий

Функция PushPOST(Запрос)

	Возврат ТБ_ТелефонияHTTPСервисы.ОбработатьPushAsterisk(Запрос);

КонецФункции

#КонецОбласти
