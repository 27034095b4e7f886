datalab mongo import tweets --file "$DATALAB_LAB_DATA/tweets.json" --drop
datalab mongo import users --file "$DATALAB_LAB_DATA/users.json" --drop
