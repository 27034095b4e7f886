datalab mongo import tweets --file data/tweets.json --drop
datalab mongo import users --file data/users.json --drop
