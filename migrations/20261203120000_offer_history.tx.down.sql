DROP TABLE offer_event;
