"""Analytics: events derived from conversations, published durably, stored once, summed up.

``events`` turns Rasa's conversation events into the project's analytics events (personal data
masked); ``spool`` keeps them on local disk until they are delivered; ``publisher`` delivers them in a
background thread to RabbitMQ (or, with no ``RABBITMQ_URL``, straight to the database); ``consumer``
writes them to the SQL database idempotently; ``stats`` computes the dashboard's figures.
"""
